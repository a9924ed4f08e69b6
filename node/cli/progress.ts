import cliProgress from 'cli-progress'
import { formatBytes } from '../util/units.js'

/** A progress bar with bytes, speed and ETA, drawn on stderr only when it is a terminal. */
export class ProgressBar {
  private readonly bar = new cliProgress.SingleBar({
    format: '{label} [{bar}] {percentage}% | {done} / {size} | {speed}/s | ETA {eta_formatted}',
    hideCursor: true,
    barsize: 30,
    etaBuffer: 50,
    stream: process.stderr
  }, cliProgress.Presets.shades_classic)

  private started = false

  constructor (private readonly label: string) {}

  update (done: number, total: number, speed?: number): void {
    const payload = { label: this.label, done: formatBytes(done), size: formatBytes(total), speed: formatBytes(speed ?? 0) }
    if (!this.started) {
      this.bar.start(Math.max(total, 1), done, payload)
      this.started = true
      return
    }
    this.bar.setTotal(Math.max(total, 1))
    this.bar.update(done, payload)
  }

  stop (): void {
    if (this.started) this.bar.stop()
  }
}

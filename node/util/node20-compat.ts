/**
 * libp2p's peer store locks (mortice -> it-queue) call Promise.withResolvers, which Node 20
 * lacks (it arrived in Node 22). The project targets Node 20, so the one missing function is
 * supplied here, exactly as specified, and only when absent.
 */
if (!('withResolvers' in Promise)) {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T> () {
      let resolve!: (value: T | PromiseLike<T>) => void
      let reject!: (reason?: unknown) => void
      const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}

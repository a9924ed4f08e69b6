import { expect } from 'chai'
import hre from 'hardhat'
import { loadFixture, time } from '@nomicfoundation/hardhat-network-helpers'
import { anyValue } from '@nomicfoundation/hardhat-chai-matchers/withArgs'
import type { HardhatEthersSigner } from '@nomicfoundation/hardhat-ethers/signers'
import { TypedDataEncoder, id, parseEther, type TypedDataDomain } from 'ethers'
import type { ChiralEscrow } from '../../typechain-types/index.js'
import { SETTLEMENT_GRACE_SECONDS } from '../../node/payments/constants.js'
import { RECEIPT_TYPES, escrowDomain, type ReceiptMessage } from '../../node/payments/receipt-typed-data.js'

const { ethers } = hre
const DEPOSIT = parseEther('10')
const CONTENT = id('film.mkv')
const OTHER_CONTENT = id('song.flac')
const DAY = 24 * 60 * 60
const GRACE = BigInt(SETTLEMENT_GRACE_SECONDS)

interface Parties {
  escrow: ChiralEscrow
  leecher: HardhatEthersSigner
  seeder: HardhatEthersSigner
  otherSeeder: HardhatEthersSigner
  stranger: HardhatEthersSigner
  domain: TypedDataDomain
}

async function deployEscrow (): Promise<Parties> {
  const [leecher, seeder, otherSeeder, stranger] = await ethers.getSigners()
  if (leecher === undefined || seeder === undefined || otherSeeder === undefined || stranger === undefined) throw new Error('four signers expected')
  const escrow = await (await ethers.getContractFactory('ChiralEscrow')).deploy()
  const { chainId } = await ethers.provider.getNetwork()
  return { escrow, leecher, seeder, otherSeeder, stranger, domain: escrowDomain(chainId, await escrow.getAddress()) }
}

async function expiryIn (seconds: number): Promise<bigint> {
  return BigInt(await time.latest() + seconds)
}

async function openEscrow (parties: Parties, deposit = DEPOSIT, seeder = parties.seeder): Promise<bigint> {
  const expiry = await expiryIn(DAY)
  await parties.escrow.connect(parties.leecher).open(seeder.address, expiry, { value: deposit })
  return await parties.escrow.latestEscrowId(parties.leecher.address, seeder.address)
}

function receipt (escrowId: bigint, seeder: HardhatEthersSigner, cumulativeAmount: bigint, contentBytes = 1n << 20n, contentId = CONTENT): ReceiptMessage {
  return { escrowId, seeder: seeder.address, contentId, contentBytes, cumulativeAmount }
}

async function sign (signer: HardhatEthersSigner, domain: TypedDataDomain, message: ReceiptMessage): Promise<string> {
  return await signer.signTypedData(domain, RECEIPT_TYPES, message)
}

async function openEscrowFixture (): Promise<Parties & { escrowId: bigint }> {
  const parties = await deployEscrow()
  return { ...parties, escrowId: await openEscrow(parties) }
}

describe('ChiralEscrow', function () {
  describe('receipt encoding', function () {
    it('the node signs the same struct the contract verifies', async function () {
      const { escrow, domain, leecher, seeder } = await loadFixture(deployEscrow)
      expect(await escrow.RECEIPT_TYPEHASH()).to.equal(id(TypedDataEncoder.from(RECEIPT_TYPES).encodeType('Receipt')))
      const message = receipt(1n, seeder, 5n)
      expect(await escrow.receiptDigest(message)).to.equal(TypedDataEncoder.hash(domain, RECEIPT_TYPES, message))
      expect(leecher.address).to.not.equal(seeder.address)
    })

    it('exposes its EIP-712 domain (ERC-5267)', async function () {
      const { escrow, domain } = await loadFixture(deployEscrow)
      const fields = await escrow.eip712Domain()
      expect(fields.name).to.equal(domain.name)
      expect(fields.version).to.equal(domain.version)
      expect(fields.chainId).to.equal(domain.chainId)
      expect(fields.verifyingContract).to.equal(domain.verifyingContract)
    })
  })

  describe('open and top up', function () {
    it('opens an escrow holding the deposit and emits EscrowOpened', async function () {
      const parties = await loadFixture(deployEscrow)
      const { escrow, leecher, seeder } = parties
      const expiry = await expiryIn(DAY)
      const opening = escrow.connect(leecher).open(seeder.address, expiry, { value: DEPOSIT })
      await expect(opening).to.emit(escrow, 'EscrowOpened').withArgs(1n, leecher.address, seeder.address, DEPOSIT, expiry)
      await expect(opening).to.changeEtherBalances([leecher, escrow], [-DEPOSIT, DEPOSIT])
      const stored = await escrow.escrowOf(1n)
      expect([stored.leecher, stored.seeder, stored.deposit, stored.redeemed, stored.expiry]).to.deep.equal([leecher.address, seeder.address, DEPOSIT, 0n, expiry])
      expect(await escrow.latestEscrowId(leecher.address, seeder.address)).to.equal(1n)
      expect(await escrow.escrowCount()).to.equal(1n)
    })

    it('rejects a zero deposit, a zero seeder, the leecher as its own seeder and a past expiry', async function () {
      const { escrow, leecher, seeder } = await loadFixture(deployEscrow)
      const expiry = await expiryIn(DAY)
      await expect(escrow.connect(leecher).open(seeder.address, expiry)).to.be.revertedWithCustomError(escrow, 'ZeroDeposit')
      await expect(escrow.connect(leecher).open(ethers.ZeroAddress, expiry, { value: 1n })).to.be.revertedWithCustomError(escrow, 'ZeroSeeder')
      await expect(escrow.connect(leecher).open(leecher.address, expiry, { value: 1n })).to.be.revertedWithCustomError(escrow, 'SelfEscrow')
      await expect(escrow.connect(leecher).open(seeder.address, BigInt(await time.latest()), { value: 1n })).to.be.revertedWithCustomError(escrow, 'ExpiryNotInFuture')
    })

    it('tops up a live escrow and can extend, never shorten, its expiry', async function () {
      const { escrow, escrowId, leecher } = await loadFixture(openEscrowFixture)
      const { expiry } = await escrow.escrowOf(escrowId)
      await expect(escrow.connect(leecher).topUp(escrowId, expiry + 100n, { value: 5n }))
        .to.emit(escrow, 'EscrowFunded').withArgs(escrowId, 5n, DEPOSIT + 5n, expiry + 100n)
      expect((await escrow.escrowOf(escrowId)).deposit).to.equal(DEPOSIT + 5n)
      await expect(escrow.connect(leecher).topUp(escrowId, expiry, { value: 5n })).to.be.revertedWithCustomError(escrow, 'ExpiryShortened')
      await expect(escrow.connect(leecher).topUp(escrowId, expiry + 100n)).to.be.revertedWithCustomError(escrow, 'ZeroDeposit')
    })

    it('lets only the leecher top up, only a known and live escrow', async function () {
      const { escrow, escrowId, leecher, stranger } = await loadFixture(openEscrowFixture)
      const { expiry } = await escrow.escrowOf(escrowId)
      await expect(escrow.connect(stranger).topUp(escrowId, expiry, { value: 1n })).to.be.revertedWithCustomError(escrow, 'NotLeecher')
      await expect(escrow.connect(leecher).topUp(99n, expiry, { value: 1n })).to.be.revertedWithCustomError(escrow, 'UnknownEscrow')
      await time.increaseTo(expiry + 1n)
      await expect(escrow.connect(leecher).topUp(escrowId, expiry + BigInt(DAY), { value: 1n })).to.be.revertedWithCustomError(escrow, 'EscrowExpired')
    })

    it('rejects deposits that do not fit the 128-bit accounting', async function () {
      const { escrow, leecher, seeder } = await loadFixture(deployEscrow)
      const huge = 1n << 128n
      await ethers.provider.send('hardhat_setBalance', [leecher.address, ethers.toQuantity(huge * 3n)])
      const expiry = await expiryIn(DAY)
      await expect(escrow.connect(leecher).open(seeder.address, expiry, { value: huge })).to.be.revertedWithCustomError(escrow, 'DepositTooLarge')
      await escrow.connect(leecher).open(seeder.address, expiry, { value: huge - 1n })
      await expect(escrow.connect(leecher).topUp(1n, expiry, { value: 1n })).to.be.revertedWithCustomError(escrow, 'DepositTooLarge')
    })
  })

  describe('redeem', function () {
    it('pays a partial receipt, then only the difference of a later one', async function () {
      const { escrow, escrowId, domain, leecher, seeder } = await loadFixture(openEscrowFixture)
      const first = receipt(escrowId, seeder, parseEther('1'), 4n << 20n)
      const redemption = escrow.connect(seeder).redeem(first, await sign(leecher, domain, first))
      await expect(redemption)
        .to.emit(escrow, 'Redeemed').withArgs(escrowId, seeder.address, CONTENT, parseEther('1'), parseEther('1'), 4n << 20n)
      await expect(redemption).to.changeEtherBalances([seeder, escrow], [parseEther('1'), -parseEther('1')])
      const second = receipt(escrowId, seeder, parseEther('3'), 10n << 20n)
      await expect(escrow.connect(seeder).redeem(second, await sign(leecher, domain, second)))
        .to.changeEtherBalances([seeder, escrow], [parseEther('2'), -parseEther('2')])
      expect((await escrow.escrowOf(escrowId)).redeemed).to.equal(parseEther('3'))
      expect(await escrow.remainingOf(escrowId)).to.equal(DEPOSIT - parseEther('3'))
    })

    it('pays exactly the whole deposit for a receipt equal to it', async function () {
      const { escrow, escrowId, domain, leecher, seeder } = await loadFixture(openEscrowFixture)
      const full = receipt(escrowId, seeder, DEPOSIT)
      await expect(escrow.connect(seeder).redeem(full, await sign(leecher, domain, full))).to.changeEtherBalance(seeder, DEPOSIT)
      expect(await escrow.remainingOf(escrowId)).to.equal(0n)
    })

    it('caps a receipt above the deposit at the deposit, and pays the rest after a top-up', async function () {
      const { escrow, escrowId, domain, leecher, seeder } = await loadFixture(openEscrowFixture)
      const over = receipt(escrowId, seeder, DEPOSIT * 2n)
      const signature = await sign(leecher, domain, over)
      await expect(escrow.connect(seeder).redeem(over, signature)).to.changeEtherBalance(seeder, DEPOSIT)
      await expect(escrow.connect(seeder).redeem(over, signature)).to.be.revertedWithCustomError(escrow, 'EscrowExhausted')
      const { expiry } = await escrow.escrowOf(escrowId)
      await escrow.connect(leecher).topUp(escrowId, expiry, { value: DEPOSIT * 3n })
      await expect(escrow.connect(seeder).redeem(over, signature)).to.changeEtherBalance(seeder, DEPOSIT)
    })

    it('refuses a replayed or older receipt', async function () {
      const { escrow, escrowId, domain, leecher, seeder } = await loadFixture(openEscrowFixture)
      const older = receipt(escrowId, seeder, parseEther('1'))
      const newer = receipt(escrowId, seeder, parseEther('2'))
      const olderSignature = await sign(leecher, domain, older)
      await escrow.connect(seeder).redeem(newer, await sign(leecher, domain, newer))
      await expect(escrow.connect(seeder).redeem(newer, await sign(leecher, domain, newer))).to.be.revertedWithCustomError(escrow, 'ReceiptNotIncreasing')
      await expect(escrow.connect(seeder).redeem(older, olderSignature)).to.be.revertedWithCustomError(escrow, 'ReceiptNotIncreasing')
    })

    it('refuses a receipt signed by anyone but the leecher, or a malformed signature', async function () {
      const { escrow, escrowId, domain, seeder, stranger } = await loadFixture(openEscrowFixture)
      const message = receipt(escrowId, seeder, parseEther('1'))
      await expect(escrow.connect(seeder).redeem(message, await sign(stranger, domain, message))).to.be.revertedWithCustomError(escrow, 'InvalidSignature')
      await expect(escrow.connect(seeder).redeem(message, await sign(seeder, domain, message))).to.be.revertedWithCustomError(escrow, 'InvalidSignature')
      await expect(escrow.connect(seeder).redeem(message, '0x1234')).to.be.revertedWithCustomError(escrow, 'InvalidSignature')
    })

    it('refuses a receipt for another escrow of the same leecher', async function () {
      const parties = await loadFixture(openEscrowFixture)
      const { escrow, escrowId, domain, leecher, seeder } = parties
      const secondId = await openEscrow(parties)
      expect(secondId).to.not.equal(escrowId)
      const forFirst = receipt(escrowId, seeder, parseEther('1'))
      const signature = await sign(leecher, domain, forFirst)
      await expect(escrow.connect(seeder).redeem({ ...forFirst, escrowId: secondId }, signature)).to.be.revertedWithCustomError(escrow, 'InvalidSignature')
      await expect(escrow.connect(seeder).redeem(receipt(99n, seeder, 1n), signature)).to.be.revertedWithCustomError(escrow, 'UnknownEscrow')
    })

    it('refuses a receipt naming another seeder, or redeemed by someone else', async function () {
      const { escrow, escrowId, domain, leecher, seeder, otherSeeder } = await loadFixture(openEscrowFixture)
      const forOther = receipt(escrowId, otherSeeder, parseEther('1'))
      await expect(escrow.connect(otherSeeder).redeem(forOther, await sign(leecher, domain, forOther))).to.be.revertedWithCustomError(escrow, 'NotSeeder')
      await expect(escrow.connect(seeder).redeem(forOther, await sign(leecher, domain, forOther))).to.be.revertedWithCustomError(escrow, 'NotSeeder')
      const forSeeder = receipt(escrowId, seeder, parseEther('1'))
      await expect(escrow.connect(otherSeeder).redeem(forSeeder, await sign(leecher, domain, forSeeder))).to.be.revertedWithCustomError(escrow, 'NotSeeder')
    })

    it('refuses a receipt signed for another chain or another contract', async function () {
      const { escrow, escrowId, domain, leecher, seeder } = await loadFixture(openEscrowFixture)
      const message = receipt(escrowId, seeder, parseEther('1'))
      const otherChain = { ...domain, chainId: BigInt(domain.chainId ?? 0) + 1n }
      await expect(escrow.connect(seeder).redeem(message, await sign(leecher, otherChain, message))).to.be.revertedWithCustomError(escrow, 'InvalidSignature')
      const otherContract = { ...domain, verifyingContract: seeder.address }
      await expect(escrow.connect(seeder).redeem(message, await sign(leecher, otherContract, message))).to.be.revertedWithCustomError(escrow, 'InvalidSignature')
    })

    it('refuses a zero-value receipt', async function () {
      const { escrow, escrowId, domain, leecher, seeder } = await loadFixture(openEscrowFixture)
      const zero = receipt(escrowId, seeder, 0n, 0n)
      await expect(escrow.connect(seeder).redeem(zero, await sign(leecher, domain, zero))).to.be.revertedWithCustomError(escrow, 'ReceiptNotIncreasing')
    })

    it('reports the content id and bytes of every receipt in its Redeemed event, whatever order they come in', async function () {
      const { escrow, escrowId, domain, leecher, seeder } = await loadFixture(openEscrowFixture)
      const film = receipt(escrowId, seeder, parseEther('1'), 8n << 20n)
      const song = receipt(escrowId, seeder, parseEther('2'), 3n << 20n, OTHER_CONTENT)
      const staleFilm = receipt(escrowId, seeder, parseEther('3'), 2n << 20n)
      for (const message of [film, song, staleFilm]) {
        await expect(escrow.connect(seeder).redeem(message, await sign(leecher, domain, message)))
          .to.emit(escrow, 'Redeemed').withArgs(escrowId, seeder.address, message.contentId, parseEther('1'), message.cumulativeAmount, message.contentBytes)
      }
    })

    it('keeps no delivery record a seeder could inflate by paying itself from a second wallet', async function () {
      const { escrow, domain, seeder, otherSeeder: secondWallet } = await loadFixture(deployEscrow)
      // Nothing in the interface is about deliveries: no views, no counters, no event.
      const names = escrow.interface.fragments.flatMap(fragment => 'name' in fragment ? [String(fragment.name)] : [])
      expect(names).to.include.members(['redeem', 'redeemBatch', 'Redeemed'])
      expect(names.filter(name => /deliver|contentbytes/i.test(name))).to.deep.equal([])
      // The self-dealing seeder's redemption claiming 2^64-1 bytes for 1 wei emits Redeemed and nothing else.
      await escrow.connect(secondWallet).open(seeder.address, await expiryIn(DAY), { value: 1n })
      const escrowId = await escrow.latestEscrowId(secondWallet.address, seeder.address)
      const inflated = receipt(escrowId, seeder, 1n, (1n << 64n) - 1n)
      const redemption = await escrow.connect(seeder).redeem(inflated, await sign(secondWallet, domain, inflated))
      const logs = (await redemption.wait())?.logs ?? []
      expect(logs.map(log => escrow.interface.parseLog(log)?.name)).to.deep.equal(['Redeemed'])
    })

    for (const [how, name] of [[0, 'redeem'], [1, 'redeemBatch']] as const) {
      it(`cannot be re-entered through ${name} by a seeder contract while it is paid`, async function () {
        const { escrow, domain, leecher } = await loadFixture(deployEscrow)
        const attacker = await (await ethers.getContractFactory('ReentrantParty')).deploy(await escrow.getAddress())
        const attackerAddress = await attacker.getAddress()
        await escrow.connect(leecher).open(attackerAddress, await expiryIn(DAY), { value: DEPOSIT })
        // Paying this receipt once is legitimate; only the guard stops the same call from paying twice.
        const higher: ReceiptMessage = { escrowId: 1n, seeder: attackerAddress, contentId: CONTENT, contentBytes: 1n, cumulativeAmount: parseEther('2') }
        await expect(attacker.redeemAndReenter(higher, await sign(leecher, domain, higher), how)).to.changeEtherBalance(attacker, parseEther('2'))
        expect(await attacker.reentryAttempts()).to.equal(1n)
        expect(await attacker.reentryRevertData()).to.equal(escrow.interface.getError('ReentrancyGuardReentrantCall')?.selector)
        expect((await escrow.escrowOf(1n)).redeemed).to.equal(parseEther('2'))
      })
    }
  })

  describe('expiry and refund', function () {
    it('cannot be re-entered through refund by a leecher contract while it is refunded', async function () {
      const { escrow, seeder } = await loadFixture(deployEscrow)
      const attacker = await (await ethers.getContractFactory('ReentrantParty')).deploy(await escrow.getAddress())
      const expiry = await expiryIn(DAY)
      await attacker.openFor(seeder.address, expiry, { value: DEPOSIT })
      await time.increaseTo(expiry + GRACE + 1n)
      await expect(attacker.refundAndReenter(1n)).to.changeEtherBalances([attacker, escrow], [DEPOSIT, -DEPOSIT])
      expect(await attacker.reentryAttempts()).to.equal(1n)
      expect(await attacker.reentryRevertData()).to.equal(escrow.interface.getError('ReentrancyGuardReentrantCall')?.selector)
    })

    it('has the settlement grace the node uses (SETTLEMENT_GRACE_SECONDS)', async function () {
      const { escrow } = await loadFixture(deployEscrow)
      expect(await escrow.SETTLEMENT_GRACE()).to.equal(GRACE)
      expect(GRACE, 'well beyond the 15 s a block may be stamped ahead of the clock').to.be.greaterThanOrEqual(60n)
    })

    it('lets the seeder redeem after expiry up to and including expiry + grace, and the leecher refund only after that', async function () {
      const { escrow, escrowId, domain, leecher, seeder } = await loadFixture(openEscrowFixture)
      const { expiry } = await escrow.escrowOf(escrowId)
      const justAfter = receipt(escrowId, seeder, parseEther('1'))
      await time.setNextBlockTimestamp(expiry + 1n)
      await expect(escrow.connect(leecher).refund(escrowId)).to.be.revertedWithCustomError(escrow, 'EscrowNotExpired')
      await time.setNextBlockTimestamp(expiry + 1n)
      await expect(escrow.connect(seeder).redeem(justAfter, await sign(leecher, domain, justAfter))).to.changeEtherBalance(seeder, parseEther('1'))
      const last = receipt(escrowId, seeder, parseEther('4'))
      const signature = await sign(leecher, domain, last)
      await time.setNextBlockTimestamp(expiry + GRACE)
      await expect(escrow.connect(leecher).refund(escrowId)).to.be.revertedWithCustomError(escrow, 'EscrowNotExpired')
      await time.setNextBlockTimestamp(expiry + GRACE)
      await expect(escrow.connect(seeder).redeem(last, signature)).to.changeEtherBalance(seeder, parseEther('3'))
      await time.setNextBlockTimestamp(expiry + GRACE + 1n)
      const refunding = escrow.connect(leecher).refund(escrowId)
      await expect(refunding).to.emit(escrow, 'Refunded').withArgs(escrowId, leecher.address, DEPOSIT - parseEther('4'))
      await expect(refunding).to.changeEtherBalances([leecher, escrow], [DEPOSIT - parseEther('4'), -(DEPOSIT - parseEther('4'))])
    })

    it('refuses a receipt one second after expiry + grace, when the refund becomes possible', async function () {
      const { escrow, escrowId, domain, leecher, seeder } = await loadFixture(openEscrowFixture)
      const { expiry } = await escrow.escrowOf(escrowId)
      const late = receipt(escrowId, seeder, parseEther('4'))
      const signature = await sign(leecher, domain, late)
      await time.setNextBlockTimestamp(expiry + GRACE + 1n)
      await expect(escrow.connect(seeder).redeem(late, signature)).to.be.revertedWithCustomError(escrow, 'EscrowExpired')
      await time.setNextBlockTimestamp(expiry + GRACE + 1n)
      await expect(escrow.connect(seeder).redeemBatch([late], [signature]))
        .to.emit(escrow, 'ReceiptRejected').withArgs(escrowId, escrow.interface.getError('EscrowExpired')?.selector)
      await expect(escrow.connect(leecher).refund(escrowId)).to.changeEtherBalance(leecher, DEPOSIT)
      await expect(escrow.connect(seeder).redeem(late, signature)).to.be.revertedWithCustomError(escrow, 'EscrowExpired')
    })

    it('takes a top-up up to and including expiry, not during the grace', async function () {
      const { escrow, escrowId, domain, leecher, seeder } = await loadFixture(openEscrowFixture)
      const { expiry } = await escrow.escrowOf(escrowId)
      await time.setNextBlockTimestamp(expiry)
      await expect(escrow.connect(leecher).topUp(escrowId, expiry, { value: 1n })).to.changeEtherBalance(escrow, 1n)
      await time.setNextBlockTimestamp(expiry + 1n)
      await expect(escrow.connect(leecher).topUp(escrowId, expiry + BigInt(DAY), { value: 1n })).to.be.revertedWithCustomError(escrow, 'EscrowExpired')
      // The same second, the escrow is still redeemable.
      const message = receipt(escrowId, seeder, parseEther('1'))
      await time.setNextBlockTimestamp(expiry + 1n)
      await expect(escrow.connect(seeder).redeem(message, await sign(leecher, domain, message))).to.changeEtherBalance(seeder, parseEther('1'))
    })

    it('does not overflow the settlement deadline of the latest possible expiry', async function () {
      const { escrow, domain, leecher, seeder } = await loadFixture(deployEscrow)
      const latest = (1n << 64n) - 1n
      await escrow.connect(leecher).open(seeder.address, latest, { value: DEPOSIT })
      const escrowId = await escrow.latestEscrowId(leecher.address, seeder.address)
      await expect(escrow.connect(leecher).refund(escrowId)).to.be.revertedWithCustomError(escrow, 'EscrowNotExpired')
      const message = receipt(escrowId, seeder, parseEther('1'))
      await expect(escrow.connect(seeder).redeem(message, await sign(leecher, domain, message))).to.changeEtherBalance(seeder, parseEther('1'))
    })

    it('refunds once, only to the leecher, only a known escrow, only what is left', async function () {
      const { escrow, escrowId, domain, leecher, seeder, stranger } = await loadFixture(openEscrowFixture)
      const all = receipt(escrowId, seeder, DEPOSIT)
      await escrow.connect(seeder).redeem(all, await sign(leecher, domain, all))
      await time.increaseTo((await escrow.escrowOf(escrowId)).expiry + GRACE + 1n)
      await expect(escrow.connect(stranger).refund(escrowId)).to.be.revertedWithCustomError(escrow, 'NotLeecher')
      await expect(escrow.connect(leecher).refund(99n)).to.be.revertedWithCustomError(escrow, 'UnknownEscrow')
      await expect(escrow.connect(leecher).refund(escrowId)).to.be.revertedWithCustomError(escrow, 'NothingToRefund')
    })

    it('refunds the rest once and then nothing', async function () {
      const { escrow, escrowId, leecher } = await loadFixture(openEscrowFixture)
      await time.increaseTo((await escrow.escrowOf(escrowId)).expiry + GRACE + 1n)
      await expect(escrow.connect(leecher).refund(escrowId)).to.changeEtherBalance(leecher, DEPOSIT)
      await expect(escrow.connect(leecher).refund(escrowId)).to.be.revertedWithCustomError(escrow, 'NothingToRefund')
      expect(await escrow.remainingOf(escrowId)).to.equal(0n)
    })
  })

  describe('redeemBatch', function () {
    async function manyEscrows (): Promise<Parties & { ids: bigint[], leechers: HardhatEthersSigner[] }> {
      const parties = await deployEscrow()
      const leechers = (await ethers.getSigners()).slice(4, 9)
      const ids: bigint[] = []
      for (const leecher of leechers) {
        await parties.escrow.connect(leecher).open(parties.seeder.address, await expiryIn(DAY), { value: DEPOSIT })
        ids.push(await parties.escrow.latestEscrowId(leecher.address, parties.seeder.address))
      }
      return { ...parties, ids, leechers }
    }

    it('pays every good receipt of many escrows in one transfer', async function () {
      const { escrow, ids, leechers, domain, seeder } = await loadFixture(manyEscrows)
      const receipts = ids.map((escrowId, i) => receipt(escrowId, seeder, parseEther(String(i + 1))))
      const signatures = await Promise.all(receipts.map(async (message, i) => await sign(leechers[i] as HardhatEthersSigner, domain, message)))
      await expect(escrow.connect(seeder).redeemBatch(receipts, signatures)).to.changeEtherBalance(seeder, parseEther('15'))
      for (const [i, escrowId] of ids.entries()) expect((await escrow.escrowOf(escrowId)).redeemed).to.equal(parseEther(String(i + 1)))
    })

    it('skips one bad receipt with ReceiptRejected and pays the others', async function () {
      const { escrow, ids, leechers, domain, seeder, stranger } = await loadFixture(manyEscrows)
      const receipts = ids.map(escrowId => receipt(escrowId, seeder, parseEther('1')))
      const signatures = await Promise.all(receipts.map(async (message, i) => await sign(leechers[i] as HardhatEthersSigner, domain, message)))
      signatures[2] = await sign(stranger, domain, receipts[2] as ReceiptMessage)
      const badId = ids[2] as bigint
      const invalidSignature = escrow.interface.getError('InvalidSignature')?.selector
      const redemption = escrow.connect(seeder).redeemBatch(receipts, signatures)
      await expect(redemption).to.emit(escrow, 'ReceiptRejected').withArgs(badId, invalidSignature)
      await expect(redemption).to.changeEtherBalance(seeder, parseEther('4'))
      expect((await escrow.escrowOf(badId)).redeemed).to.equal(0n)
    })

    it('pays nothing and sends nothing when every receipt is bad', async function () {
      const { escrow, ids, domain, seeder, stranger } = await loadFixture(manyEscrows)
      const receipts = ids.map(escrowId => receipt(escrowId, seeder, parseEther('1')))
      const signatures = await Promise.all(receipts.map(async message => await sign(stranger, domain, message)))
      const redemption = escrow.connect(seeder).redeemBatch(receipts, signatures)
      await expect(redemption).to.emit(escrow, 'ReceiptRejected').withArgs(anyValue, anyValue)
      await expect(redemption).to.changeEtherBalance(seeder, 0n)
    })

    it('refuses receipts and signatures of different lengths, and accepts an empty batch', async function () {
      const { escrow, ids, leechers, domain, seeder } = await loadFixture(manyEscrows)
      const message = receipt(ids[0] as bigint, seeder, 1n)
      await expect(escrow.connect(seeder).redeemBatch([message], [])).to.be.revertedWithCustomError(escrow, 'LengthMismatch')
      await expect(escrow.connect(seeder).redeemBatch([], [])).to.changeEtherBalance(seeder, 0n)
      await expect(escrow.connect(seeder).redeemBatch([message], [await sign(leechers[0] as HardhatEthersSigner, domain, message)])).to.changeEtherBalance(seeder, 1n)
    })
  })
})


import { expect } from 'chai'
import { Wallet } from 'ethers'
import { isPeerBindingValid, peerBindingDomain, signPeerBinding } from '../../node/wallet/peer-binding.js'

const ESCROW = '0x45963a17f93ca9683d527caeabef8ef89915d226'
const PEER = '12D3KooWGzBvQGnGqJXZ7fVdWWu8JhHdUyeKUjDx9nGt9xRZsW1N'
const OTHER_PEER = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'

describe('wallet-to-peer binding in file records', function () {
  const wallet = Wallet.createRandom()
  const domain = peerBindingDomain(47474n, ESCROW)

  it('holds for the peer, wallet, chain and contract it was signed for', async function () {
    const proof = await signPeerBinding(wallet, domain, PEER)
    expect(isPeerBindingValid(domain, PEER, wallet.address, proof)).to.equal(true)
  })

  it('fails for another peer, another wallet, another chain or contract, and garbage', async function () {
    const proof = await signPeerBinding(wallet, domain, PEER)
    expect(isPeerBindingValid(domain, OTHER_PEER, wallet.address, proof)).to.equal(false)
    expect(isPeerBindingValid(domain, PEER, Wallet.createRandom().address, proof)).to.equal(false)
    expect(isPeerBindingValid(peerBindingDomain(47475n, ESCROW), PEER, wallet.address, proof)).to.equal(false)
    expect(isPeerBindingValid(peerBindingDomain(47474n, wallet.address), PEER, wallet.address, proof)).to.equal(false)
    expect(isPeerBindingValid(domain, PEER, wallet.address, '0x' + '00'.repeat(65))).to.equal(false)
    expect(isPeerBindingValid(domain, PEER, wallet.address, '')).to.equal(false)
  })
})

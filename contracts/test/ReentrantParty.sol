// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ChiralEscrow} from "../ChiralEscrow.sol";

/// @notice Test-only escrow party (seeder or leecher) that calls the escrow again while being
/// paid, to prove the reentrancy guard holds on every paying function. It records the reentrant
/// call's revert data instead of failing, so the outer payment itself goes through.
contract ReentrantParty {
    enum Reentry { Redeem, RedeemBatch, Refund }

    ChiralEscrow private immutable escrow;
    ChiralEscrow.Receipt private pendingReceipt;
    bytes private pendingSignature;
    Reentry private reentry;
    bool private armed;

    bytes public reentryRevertData;
    uint256 public reentryAttempts;

    constructor(ChiralEscrow target) {
        escrow = target;
    }

    function openFor(address seeder, uint64 expiry) external payable {
        escrow.open{value: msg.value}(seeder, expiry);
    }

    function redeemAndReenter(ChiralEscrow.Receipt calldata receipt, bytes calldata signature, Reentry how) external {
        pendingReceipt = receipt;
        pendingSignature = signature;
        _arm(how);
        escrow.redeem(receipt, signature);
    }

    function refundAndReenter(uint256 escrowId) external {
        _arm(Reentry.Refund);
        escrow.refund(escrowId);
    }

    receive() external payable {
        if (!armed) return;
        armed = false;
        ++reentryAttempts;
        if (reentry == Reentry.Redeem) {
            try escrow.redeem(pendingReceipt, pendingSignature) {} catch (bytes memory revertData) {
                reentryRevertData = revertData;
            }
        } else if (reentry == Reentry.RedeemBatch) {
            ChiralEscrow.Receipt[] memory receipts = new ChiralEscrow.Receipt[](1);
            receipts[0] = pendingReceipt;
            bytes[] memory signatures = new bytes[](1);
            signatures[0] = pendingSignature;
            try escrow.redeemBatch(receipts, signatures) {} catch (bytes memory revertData) {
                reentryRevertData = revertData;
            }
        } else {
            try escrow.refund(pendingReceipt.escrowId) {} catch (bytes memory revertData) {
                reentryRevertData = revertData;
            }
        }
    }

    function _arm(Reentry how) private {
        reentry = how;
        armed = true;
    }
}

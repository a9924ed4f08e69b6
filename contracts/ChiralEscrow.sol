// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @title Escrow between a leecher and a seeder, settled with signed cumulative receipts
/// @notice A leecher deposits CHI for one seeder and, while downloading, signs EIP-712 receipts
/// whose amount only grows. The seeder redeems the latest receipt (or many escrows' receipts in one
/// transaction) and is paid the difference since its last redemption, never more than the deposit.
/// The escrow is live (a top-up is accepted) up to and including `expiry`; redemption is possible up
/// to and including `expiry + SETTLEMENT_GRACE`, the leecher's refund only after that, so the two
/// never overlap. One escrow serves any number of downloads between the same two parties.
/// @dev The contract keeps no record of deliveries: it cannot tell a leecher's wallet from a
/// seeder's own second wallet, and CHI paid to oneself comes back, so such a record would cost a
/// self-dealing seeder nothing but gas. `contentBytes` stays in the signed receipt and the
/// `Redeemed` event as the leecher's acknowledgement of what it got.
contract ChiralEscrow is EIP712, ReentrancyGuard {
    struct Escrow {
        address leecher;
        uint64 expiry;
        address seeder;
        uint128 deposit;
        uint128 redeemed;
    }

    /// @dev `contentBytes` counts the bytes of `contentId` delivered under this escrow so far and
    /// `cumulativeAmount` everything owed under this escrow so far; both only grow.
    struct Receipt {
        uint256 escrowId;
        address seeder;
        bytes32 contentId;
        uint64 contentBytes;
        uint128 cumulativeAmount;
    }

    /// @notice Seconds after `expiry` during which the seeder can still redeem and the leecher
    /// cannot yet refund.
    /// @dev Block timestamps are only loosely tied to the clock: a block may be stamped up to 15 s
    /// ahead of it (MAX_FUTURE_BLOCK_SECONDS in node/chain/chain.ts), so, without a grace, a
    /// refund could be mined "after expiry" while the seeder's last redeem, sent before expiry by
    /// its own clock, is still waiting to be included, and the redeem would lose the race. A seeder
    /// stops serving before `expiry` (with its own margin), so every receipt it holds is signed
    /// before `expiry`; the grace then adds a minute, four times the drift and a dozen blocks,
    /// to the seeder's own margin for landing its redeem before any refund is possible. The node
    /// has the same value as SETTLEMENT_GRACE_SECONDS in node/payments/constants.ts.
    uint64 public constant SETTLEMENT_GRACE = 1 minutes;

    bytes32 public constant RECEIPT_TYPEHASH = keccak256(
        "Receipt(uint256 escrowId,address seeder,bytes32 contentId,uint64 contentBytes,uint128 cumulativeAmount)"
    );

    uint256 public escrowCount;
    mapping(uint256 escrowId => Escrow) private _escrows;
    mapping(address leecher => mapping(address seeder => uint256 escrowId)) public latestEscrowId;

    event EscrowOpened(uint256 indexed escrowId, address indexed leecher, address indexed seeder, uint256 deposit, uint64 expiry);
    event EscrowFunded(uint256 indexed escrowId, uint256 added, uint256 deposit, uint64 expiry);
    event Redeemed(
        uint256 indexed escrowId,
        address indexed seeder,
        bytes32 indexed contentId,
        uint256 payout,
        uint256 cumulativeAmount,
        uint64 contentBytes
    );
    event ReceiptRejected(uint256 indexed escrowId, bytes4 reason);
    event Refunded(uint256 indexed escrowId, address indexed leecher, uint256 amount);

    error ZeroDeposit();
    error ZeroSeeder();
    error SelfEscrow();
    error ExpiryNotInFuture();
    error ExpiryShortened();
    error DepositTooLarge();
    error UnknownEscrow();
    error NotLeecher();
    error NotSeeder();
    error EscrowExpired();
    error EscrowNotExpired();
    error ReceiptNotIncreasing();
    error EscrowExhausted();
    error InvalidSignature();
    error LengthMismatch();
    error NothingToRefund();

    constructor() EIP712("ChiralEscrow", "1") {}

    /// @notice Opens an escrow for `seeder` holding the CHI sent, live until `expiry` (unix seconds)
    /// and redeemable until `expiry + SETTLEMENT_GRACE`.
    function open(address seeder, uint64 expiry) external payable returns (uint256 escrowId) {
        if (msg.value == 0) revert ZeroDeposit();
        if (seeder == address(0)) revert ZeroSeeder();
        if (seeder == msg.sender) revert SelfEscrow();
        if (expiry <= block.timestamp) revert ExpiryNotInFuture();
        if (msg.value > type(uint128).max) revert DepositTooLarge();
        escrowId = ++escrowCount;
        _escrows[escrowId] = Escrow({
            leecher: msg.sender,
            expiry: expiry,
            seeder: seeder,
            deposit: uint128(msg.value),
            redeemed: 0
        });
        latestEscrowId[msg.sender][seeder] = escrowId;
        emit EscrowOpened(escrowId, msg.sender, seeder, msg.value, expiry);
    }

    /// @notice Adds the CHI sent to a live escrow (not past `expiry`; the grace is for settling,
    /// not funding) and optionally moves its expiry later (pass the current expiry to keep it).
    function topUp(uint256 escrowId, uint64 expiry) external payable {
        Escrow storage escrow = _liveEscrow(escrowId);
        if (escrow.leecher != msg.sender) revert NotLeecher();
        if (msg.value == 0) revert ZeroDeposit();
        if (expiry < escrow.expiry) revert ExpiryShortened();
        uint256 deposit = uint256(escrow.deposit) + msg.value;
        if (deposit > type(uint128).max) revert DepositTooLarge();
        escrow.deposit = uint128(deposit);
        escrow.expiry = expiry;
        emit EscrowFunded(escrowId, msg.value, deposit, expiry);
    }

    /// @notice Redeems one receipt; reverts with the reason it is not payable.
    function redeem(Receipt calldata receipt, bytes calldata signature) external nonReentrant returns (uint256 payout) {
        bytes4 rejection;
        (rejection, payout) = _redeem(receipt, signature);
        if (rejection != bytes4(0)) {
            // The reasons are argument-less custom errors, so their selector is the whole revert data.
            assembly ("memory-safe") {
                mstore(0, rejection)
                revert(0, 4)
            }
        }
        Address.sendValue(payable(msg.sender), payout);
    }

    /// @notice Redeems receipts of many escrows held by the caller in one transaction. A receipt
    /// that is not payable is skipped with a `ReceiptRejected` event instead of failing the batch.
    function redeemBatch(Receipt[] calldata receipts, bytes[] calldata signatures)
        external
        nonReentrant
        returns (uint256 totalPayout)
    {
        if (receipts.length != signatures.length) revert LengthMismatch();
        for (uint256 i = 0; i < receipts.length; ++i) {
            (bytes4 rejection, uint256 payout) = _redeem(receipts[i], signatures[i]);
            if (rejection != bytes4(0)) {
                emit ReceiptRejected(receipts[i].escrowId, rejection);
            } else {
                totalPayout += payout;
            }
        }
        if (totalPayout > 0) Address.sendValue(payable(msg.sender), totalPayout);
    }

    /// @notice Returns what the seeder has not redeemed to the leecher, once the escrow has expired
    /// and its settlement grace has passed.
    function refund(uint256 escrowId) external nonReentrant returns (uint256 amount) {
        Escrow storage escrow = _escrows[escrowId];
        if (escrow.leecher == address(0)) revert UnknownEscrow();
        if (escrow.leecher != msg.sender) revert NotLeecher();
        if (block.timestamp <= _settlementDeadline(escrow)) revert EscrowNotExpired();
        amount = escrow.deposit - escrow.redeemed;
        if (amount == 0) revert NothingToRefund();
        escrow.deposit = escrow.redeemed;
        emit Refunded(escrowId, msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    function escrowOf(uint256 escrowId) external view returns (Escrow memory) {
        return _escrows[escrowId];
    }

    /// @notice CHI still redeemable (until the settlement deadline) or refundable (after it).
    function remainingOf(uint256 escrowId) external view returns (uint256) {
        Escrow storage escrow = _escrows[escrowId];
        return escrow.deposit - escrow.redeemed;
    }

    /// @notice The EIP-712 digest a leecher signs for `receipt`, bound to this contract and chain.
    function receiptDigest(Receipt calldata receipt) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    RECEIPT_TYPEHASH,
                    receipt.escrowId,
                    receipt.seeder,
                    receipt.contentId,
                    receipt.contentBytes,
                    receipt.cumulativeAmount
                )
            )
        );
    }

    /// @dev Effects only; the caller pays out. Returns a rejection selector instead of reverting so
    /// a batch can skip a bad receipt.
    function _redeem(Receipt calldata receipt, bytes calldata signature)
        private
        returns (bytes4 rejection, uint256 payout)
    {
        Escrow storage escrow = _escrows[receipt.escrowId];
        if (escrow.leecher == address(0)) return (UnknownEscrow.selector, 0);
        if (escrow.seeder != msg.sender || receipt.seeder != msg.sender) return (NotSeeder.selector, 0);
        if (block.timestamp > _settlementDeadline(escrow)) return (EscrowExpired.selector, 0);
        if (receipt.cumulativeAmount <= escrow.redeemed) return (ReceiptNotIncreasing.selector, 0);
        if (escrow.redeemed == escrow.deposit) return (EscrowExhausted.selector, 0);
        (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecover(receiptDigest(receipt), signature);
        if (error != ECDSA.RecoverError.NoError || signer != escrow.leecher) return (InvalidSignature.selector, 0);

        uint128 owed = receipt.cumulativeAmount < escrow.deposit ? receipt.cumulativeAmount : escrow.deposit;
        uint128 paid = owed - escrow.redeemed;
        escrow.redeemed = owed;

        emit Redeemed(receipt.escrowId, msg.sender, receipt.contentId, paid, receipt.cumulativeAmount, receipt.contentBytes);
        return (bytes4(0), paid);
    }

    /// @dev The last second a receipt of `escrow` is redeemable; refunds start after it. Summed in
    /// uint256 so an expiry near 2^64 cannot overflow.
    function _settlementDeadline(Escrow storage escrow) private view returns (uint256) {
        return uint256(escrow.expiry) + SETTLEMENT_GRACE;
    }

    function _liveEscrow(uint256 escrowId) private view returns (Escrow storage escrow) {
        escrow = _escrows[escrowId];
        if (escrow.leecher == address(0)) revert UnknownEscrow();
        if (block.timestamp > escrow.expiry) revert EscrowExpired();
    }
}

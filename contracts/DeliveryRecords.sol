// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Service delivered by seeders, as proven by redeemed receipts
/// @notice For every (seeder, content id) the bytes that leechers acknowledged in signed receipts
/// and the CHI paid for them. Reputation and the earnings view read these totals; only receipts
/// that a leecher signed and a seeder redeemed on-chain move them.
abstract contract DeliveryRecords {
    struct Delivery {
        uint128 bytesDelivered;
        uint128 amountPaid;
    }

    mapping(address seeder => mapping(bytes32 contentId => Delivery)) private _deliveries;
    mapping(address seeder => Delivery) private _seederTotals;

    event DeliveryRecorded(address indexed seeder, bytes32 indexed contentId, uint256 bytesAdded, uint256 amountAdded);

    /// @notice What redeemed receipts prove a seeder delivered of one content id.
    function deliveryOf(address seeder, bytes32 contentId) external view returns (Delivery memory) {
        return _deliveries[seeder][contentId];
    }

    /// @notice What redeemed receipts prove a seeder delivered over all content.
    function totalDeliveredBy(address seeder) external view returns (Delivery memory) {
        return _seederTotals[seeder];
    }

    function _recordDelivery(address seeder, bytes32 contentId, uint128 bytesAdded, uint128 amountAdded) internal {
        Delivery storage delivery = _deliveries[seeder][contentId];
        delivery.bytesDelivered += bytesAdded;
        delivery.amountPaid += amountAdded;
        Delivery storage total = _seederTotals[seeder];
        total.bytesDelivered += bytesAdded;
        total.amountPaid += amountAdded;
        emit DeliveryRecorded(seeder, contentId, bytesAdded, amountAdded);
    }
}

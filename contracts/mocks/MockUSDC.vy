# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title MockUSDC
@license GNU Affero General Public License v3.0 only
@notice Test stablecoin for local chains: snekmate's ERC-20 with EIP-2612 permit, the decimals
        chosen at deploy (6 like USDC, or 18 to test the vault over another scale), and a public
        `faucet` that mints to the caller, capped per call. Never deploy outside a local chain.
@custom:kill Not applicable: a test token.
"""


from snekmate.auth import ownable
initializes: ownable


from snekmate.tokens import erc20
initializes: erc20[ownable := ownable]


# `mint` is kept (minter = deployer) for fixtures that fund many accounts in one call.
exports: erc20.__interface__


# Whole tokens the faucet mints per call, at most.
FAUCET_CAP_TOKENS: public(constant(uint256)) = 1_000_000


# Largest amount one `faucet` call mints, in base units.
faucet_cap: public(immutable(uint256))


@deploy
def __init__(name_: String[25], symbol_: String[5], decimals_: uint8):
    """
    @param name_ Token name (also the EIP-712 domain name).
    @param symbol_ Token symbol.
    @param decimals_ 6 like USDC, 18 to exercise other scales.
    """
    ownable.__init__()
    erc20.__init__(name_, symbol_, decimals_, name_, "2")
    faucet_cap = FAUCET_CAP_TOKENS * 10 ** convert(decimals_, uint256)


@external
def faucet(amount: uint256):
    """
    @notice Mint `amount` to the caller (test accounts fund themselves).
    @param amount Base units, at most `faucet_cap`.
    """
    assert amount != 0, "usdc: zero amount"
    assert amount <= faucet_cap, "usdc: faucet cap exceeded"
    erc20._mint(msg.sender, amount)

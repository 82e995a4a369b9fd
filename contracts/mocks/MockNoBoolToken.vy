# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title MockNoBoolToken
@license GNU Affero General Public License v3.0 only
@notice A USDT-style ERC-20 whose transfer, transferFrom and approve return nothing. The vault
        must work with it (calls use `default_return_value=True`). 6 decimals, public capped faucet.
        Like USDT, its deployer can switch on a fee on transfers (`set_fee_bps`: the receiver gets
        less than was sent; the vault must refuse that) and block addresses (`set_blocked`: a
        blocked address can neither send nor receive).
@custom:kill Not applicable: a test token.
"""


event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256


event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256


# Token name.
name: public(String[25])
# Token symbol.
symbol: public(String[5])
# Decimal places.
decimals: public(uint8)
# Balances.
balanceOf: public(HashMap[address, uint256])
# Allowances.
allowance: public(HashMap[address, HashMap[address, uint256]])
# Supply.
totalSupply: public(uint256)


# Largest amount one `faucet` call mints, in base units.
FAUCET_CAP: public(constant(uint256)) = 1_000_000 * 10**6


# Who may set the fee and the blocklist.
owner: public(address)
# Fee on every transfer, in basis points of the amount (kept by the owner).
fee_bps: public(uint256)
# Addresses that can neither send nor receive.
blocked: public(HashMap[address, bool])


@deploy
def __init__():
    self.name = "Tether-like USD"
    self.symbol = "USDT"
    self.decimals = 6
    self.owner = msg.sender


@external
def set_fee_bps(fee_bps_: uint256):
    """@notice The owner: the fee on transfers, at most 10%."""
    assert msg.sender == self.owner, "usdt: not the owner"
    assert fee_bps_ <= 1_000, "usdt: fee too high"
    self.fee_bps = fee_bps_


@external
def set_blocked(account: address, blocked_: bool):
    """@notice The owner: block or unblock `account`."""
    assert msg.sender == self.owner, "usdt: not the owner"
    self.blocked[account] = blocked_


@external
def transfer(receiver: address, amount: uint256):
    """@notice Returns nothing, like USDT."""
    self._transfer(msg.sender, receiver, amount)


@external
def transferFrom(owner: address, receiver: address, amount: uint256):
    """@notice Returns nothing, like USDT."""
    allowed: uint256 = self.allowance[owner][msg.sender]
    if allowed != max_value(uint256):
        assert allowed >= amount, "usdt: insufficient allowance"
        self.allowance[owner][msg.sender] = allowed - amount
    self._transfer(owner, receiver, amount)


@external
def approve(spender: address, amount: uint256):
    """@notice Returns nothing, like USDT."""
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)


@external
def faucet(amount: uint256):
    """@notice Mint `amount` (at most FAUCET_CAP) to the caller."""
    assert amount != 0, "usdt: zero amount"
    assert amount <= FAUCET_CAP, "usdt: faucet cap exceeded"
    self.balanceOf[msg.sender] += amount
    self.totalSupply += amount
    log Transfer(sender=empty(address), receiver=msg.sender, value=amount)


@internal
def _transfer(owner: address, receiver: address, amount: uint256):
    assert receiver != empty(address), "usdt: transfer to the zero address"
    assert not self.blocked[owner] and not self.blocked[receiver], "usdt: blocked"
    assert self.balanceOf[owner] >= amount, "usdt: insufficient balance"
    fee: uint256 = amount * self.fee_bps // 10_000
    self.balanceOf[owner] -= amount
    self.balanceOf[receiver] += amount - fee
    log Transfer(sender=owner, receiver=receiver, value=amount - fee)
    if fee != 0:
        self.balanceOf[self.owner] += fee
        log Transfer(sender=owner, receiver=self.owner, value=fee)

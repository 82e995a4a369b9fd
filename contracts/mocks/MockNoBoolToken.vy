# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title MockNoBoolToken
@license GNU Affero General Public License v3.0 only
@notice A USDT-style ERC-20 whose transfer, transferFrom and approve return nothing. The vault
        must work with it (calls use `default_return_value=True`). 6 decimals, public capped faucet.
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


@deploy
def __init__():
    self.name = "Tether-like USD"
    self.symbol = "USDT"
    self.decimals = 6


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
    assert self.balanceOf[owner] >= amount, "usdt: insufficient balance"
    self.balanceOf[owner] -= amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=owner, receiver=receiver, value=amount)

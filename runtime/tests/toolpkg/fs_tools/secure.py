"""A custom strong type connection defined in a tool package, and a tool that takes it (prompt flow's docs:
create-your-own-custom-strong-type-connection.md). The tool reports the fields it received and whether the
secret arrived, never the secret."""
import hashlib

from promptflow.connections import CustomStrongTypeConnection
from promptflow.contracts.types import Secret
from promptflow.core import tool


class VaultConnection(CustomStrongTypeConnection):
    """A vault.

    :param token: The vault's token.
    :type token: Secret
    :param region: Where the vault is.
    :type region: String
    """
    token: Secret
    region: str = "nowhere"


@tool
def unlock(connection: VaultConnection, door: str, token_sha256: str = "") -> dict:
    return {"class": type(connection).__name__, "module": type(connection).__module__, "region": connection.region,
            "door": door, "configs_region": connection.configs["region"],
            "token_arrived": hashlib.sha256(connection.token.encode()).hexdigest() == token_sha256,
            "secret_keys": sorted(connection.secrets)}

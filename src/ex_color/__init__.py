"""ex_color: concept anchoring in a tiny colour autoencoder (domain code)."""

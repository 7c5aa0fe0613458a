"""Tooling around the synthesized stack: Terraform, the local AWS emulator, the demo."""

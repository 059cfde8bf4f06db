"""The CLI's subcommands, one module each; ``emostream.cli`` wires them to argparse."""

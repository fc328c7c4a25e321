"""Demo data: a realistic community generated from a seed (`generator.community`), and
`ambassador-bot demo`, which loads one into the playground's workspace (`loader`)."""

from bot.demo.generator import Volume, community

__all__ = ["Volume", "community"]

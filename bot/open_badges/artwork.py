"""The shipped badge images in another language: config/badges/<level>.fr.png, drawn like
the English ones (a disc of the level's colour, a white ring, the community's name above
the level's name, one star per rank), so that a French reader's card does not show
"AMBASSADOR CONFIRMED".

Run once when the shipped ladder changes (`python -m bot.open_badges.artwork config/badges`);
the bot itself only serves the files (`image_fr` in the ladder, bot/ladder.py). Operators
who replace the images replace these too, or drop `image_fr` to show one image to all.
Needs Pillow (reportlab's dependency) and the DejaVu fonts (Debian's fonts-dejavu-core).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

SIZE = 400
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
WHITE = (255, 255, 255, 255)


@dataclass(frozen=True)
class Artwork:
    """One badge: its file, colour, words (the community's name on one or two lines, the
    level's name) and stars."""

    file: str
    colour: tuple[int, int, int]
    above: tuple[str, ...]
    level: str
    stars: int


# The shipped ladder's levels (config/ambassador.toml), in French: the community's name
# as the catalogue says it ("la communauté des ambassadeurs"), the level's `name_fr`.
FRENCH = (
    Artwork("junior.fr.png", (46, 125, 50), ("COMMUNAUTÉ DES", "AMBASSADEURS"), "JUNIOR", 1),
    Artwork("confirmed.fr.png", (21, 101, 192), ("COMMUNAUTÉ DES", "AMBASSADEURS"), "CONFIRMÉ", 2),
    Artwork("senior.fr.png", (183, 121, 31), ("COMMUNAUTÉ DES", "AMBASSADEURS"), "SENIOR", 3),
)


def draw(artwork: Artwork) -> bytes:
    """The badge as a 400 × 400 PNG with a transparent corner."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    colour = (*artwork.colour, 255)
    middle = SIZE // 2
    pen.ellipse((10, 10, SIZE - 10, SIZE - 10), fill=colour)
    pen.ellipse((36, 36, SIZE - 36, SIZE - 36), fill=WHITE)
    pen.ellipse((44, 44, SIZE - 44, SIZE - 44), fill=colour)

    def fitted(text: str, size: int, width: int) -> ImageFont.FreeTypeFont:
        font = ImageFont.truetype(str(FONT), size)
        while pen.textlength(text, font=font) > width and size > 10:
            size -= 1
            font = ImageFont.truetype(str(FONT), size)
        return font

    top = 122 if len(artwork.above) == 1 else 116
    for line in artwork.above:
        pen.text((middle, top), line, font=fitted(line, 22, 215), fill=WHITE, anchor="mm")
        top += 27
    pen.text(
        (middle, 200), artwork.level, font=fitted(artwork.level, 40, 270), fill=WHITE, anchor="mm"
    )
    stars = "★" * artwork.stars
    pen.text((middle, 262), stars, font=ImageFont.truetype(str(FONT), 36), fill=WHITE, anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def main(argv: list[str]) -> int:
    """Write the French badges into the folder given (config/badges)."""
    folder = Path(argv[0] if argv else "config/badges")
    for artwork in FRENCH:
        (folder / artwork.file).write_bytes(draw(artwork))
        print(folder / artwork.file)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

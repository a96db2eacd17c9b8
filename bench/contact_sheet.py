#!/usr/bin/env python3
"""Contact sheet: images in a grid, each scaled to the same display width (so a 2048 px result
shows its strokes at the same relative size as a 512 px one), with a label over each column.
  contact_sheet.py -o sheet.png --columns 3 --labels "512 px,1024 px,2048 px" a.png b.png ..."""
import argparse

from PIL import Image, ImageDraw

parser = argparse.ArgumentParser()
parser.add_argument("images", nargs="+")
parser.add_argument("-o", "--output", required=True)
parser.add_argument("--columns", type=int, default=3)
parser.add_argument("--width", type=int, default=400, help="display width of each image, px")
parser.add_argument("--labels", default="", help="comma-separated, one per column")
parser.add_argument("--title", default="")
args = parser.parse_args()

labels = [s for s in args.labels.split(",") if s]
# Box filter: an honest average of the pixels, no sharpening that would invent strokes.
tiles = []
for path in args.images:
    im = Image.open(path).convert("RGB")
    h = round(im.height * args.width / im.width)
    tiles.append(im.resize((args.width, h), Image.BOX))
rows = [tiles[i:i + args.columns] for i in range(0, len(tiles), args.columns)]
pad, head = 8, 24
row_heights = [max(t.height for t in r) for r in rows]
width = args.columns * args.width + (args.columns + 1) * pad
height = head * (2 if args.title else 1) + sum(row_heights) + (len(rows) + 1) * pad
sheet = Image.new("RGB", (width, height), "white")
draw = ImageDraw.Draw(sheet)
y = pad
if args.title:
    draw.text((pad, y), args.title, fill="black")
    y += head
for c, label in enumerate(labels[: args.columns]):
    draw.text((pad + c * (args.width + pad), y), label, fill="black")
y += head
for r, row in enumerate(rows):
    for c, tile in enumerate(row):
        sheet.paste(tile, (pad + c * (args.width + pad), y))
    y += row_heights[r] + pad
# A .jpg sheet is a tenth of the PNG's size and shows strokes as well at this scale.
if args.output.lower().endswith((".jpg", ".jpeg")):
    sheet.save(args.output, quality=88, optimize=True)
else:
    sheet.save(args.output, optimize=True)

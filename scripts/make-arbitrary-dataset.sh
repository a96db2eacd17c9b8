#!/usr/bin/env bash
# Builds the training images of the arbitrary-style decoder (pastiche train-arbitrary) from Debian
# packages of desktop wallpapers (photographs, paintings and abstract art under free licences) and,
# when present, the photos of ../shared/datasets/photos. The packages are downloaded, not
# installed; every image is scaled to at most 768 px on its long side and written as JPEG, with a
# SOURCES.tsv line naming its package, version and licence. Nothing of it is committed.
#   scripts/make-arbitrary-dataset.sh [OUT_DIR] [SHARED_DIR]   (default data/arbitrary-train)
#   PACKAGES="gnome-backgrounds ..." to choose the packages.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-data/arbitrary-train}
shared=${2:-../shared}
packages=(${PACKAGES:-gnome-backgrounds mate-backgrounds ukui-wallpapers lomiri-wallpapers sway-backgrounds plasma-workspace-wallpapers})
py=/usr/bin/python3
if ! $py -c "import PIL" 2>/dev/null; then
  apt-get install -y --no-install-recommends python3-pil >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
sources="$out/SOURCES.tsv"
printf 'file\tpackage\tversion\tlicence\toriginal\n' >"$sources"
(cd "$work" && apt-get download "${packages[@]}" >/dev/null)
for deb in "$work"/*.deb; do
  pkg=$(dpkg-deb -f "$deb" Package)
  version=$(dpkg-deb -f "$deb" Version)
  root="$work/x-$pkg"
  dpkg-deb -x "$deb" "$root"
  copyright="$root/usr/share/doc/$pkg/copyright"
  licence=$(grep -h '^License:' "$copyright" 2>/dev/null | sed 's/^License: *//' | sort -u |
    paste -sd ";" | sed "s/;/; /g" || true)
  [ -n "$licence" ] || licence="see /usr/share/doc/$pkg/copyright"
  find "$root" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' -o -iname '*.webp' \) |
    sort | while read -r file; do
      printf '%s\t%s\t%s\t%s\t%s\n' "$pkg" "$version" "$licence" "${file#$root}" "$file"
    done
done >"$work/list.tsv"
if [ -d "$shared/datasets/photos" ]; then
  find "$shared/datasets/photos" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) |
    sort | while read -r file; do
      printf 'shared-photos\t-\tsee %s\t%s\t%s\n' "$shared/datasets/README.md" "${file#$shared/}" "$file"
    done >>"$work/list.tsv"
fi
# Scale, skip the small (icons, thumbnails) and the duplicates (one picture at several sizes).
$py - "$work/list.tsv" "$out" "$sources" <<'PY'
import hashlib, os, sys
from PIL import Image
listing, out, sources = sys.argv[1:4]
seen = set()
kept = 0
with open(listing) as f, open(sources, "a") as s:
    for line in f:
        pkg, version, licence, original, path = line.rstrip("\n").split("\t")
        try:
            im = Image.open(path)
            im.draft("RGB", (768, 768))
            im = im.convert("RGB")
        except Exception:
            continue
        if min(im.size) < 384:
            continue
        im.thumbnail((768, 768), Image.LANCZOS)
        small = im.resize((8, 8), Image.BOX).tobytes()
        key = hashlib.sha1(bytes(v // 16 for v in small)).hexdigest()
        if key in seen:
            continue
        seen.add(key)
        name = "%s-%04d.jpg" % (pkg, kept)
        im.save(os.path.join(out, name), quality=92)
        s.write("\t".join([name, pkg, version, licence, original]) + "\n")
        kept += 1
print("make-arbitrary-dataset: %d images in %s (sources: %s)" % (kept, out, sources))
PY

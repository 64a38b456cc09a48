#!/bin/sh
# Make sure WeasyPrint's system libraries, the report fonts and npm (which installs the
# locator maps' base data and the Nu HTML checker, see the Makefile) are present; with
# --browser also Chromium, which the browser tests drive; with --validators also Java,
# which runs the W3C Nu HTML checker (vnu.jar); with --office also LibreOffice Writer
# (headless), which the tests open the Word files with.
# Debian/Ubuntu: installs what is missing when run as root; otherwise prints the
# exact command to run. Without libharfbuzz-subset0 WeasyPrint still works but
# falls back to fontTools, and every PDF takes about 2.5x longer.
set -eu

PACKAGES="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core fonts-dejavu-core"

have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_font() { fc-list 2>/dev/null | grep -q "$1"; }

missing=""
have_lib "libpango-1.0.so.0" || missing="$missing libpango-1.0-0"
have_lib "libpangoft2-1.0.so.0" || missing="$missing libpangoft2-1.0-0"
have_lib "libharfbuzz-subset.so.0" || missing="$missing libharfbuzz-subset0"
have_font "NotoSans-Regular" || missing="$missing fonts-noto-core"
have_font "DejaVuSans.ttf" || missing="$missing fonts-dejavu-core"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
for option in "$@"; do
  case "$option" in
    --browser) command -v chromium >/dev/null 2>&1 || missing="$missing chromium" ;;
    --validators) command -v java >/dev/null 2>&1 || missing="$missing default-jre-headless" ;;
    --office) command -v soffice >/dev/null 2>&1 || missing="$missing libreoffice-writer-nogui" ;;
  esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages:$missing"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  exit 0
fi

echo "Missing system packages:$missing" >&2
echo "Install them with:" >&2
echo "    sudo apt-get install -y$missing" >&2
case "$missing" in
  # WeasyPrint cannot run without Pango, the browser tests without Chromium, the Nu
  # HTML checker without Java, nor the map data and the checker install without npm
  *libpango*|*chromium*|*jre*|*npm*) exit 1 ;;
  *) echo "(continuing: PDFs will build, but slower or with fallback fonts; Word files are" \
          "then only read back by the tests, not opened in LibreOffice)" >&2 ;;
esac

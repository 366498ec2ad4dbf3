#!/usr/bin/env bash
# Re-creates the SAMPLE charter and SAMPLE keys in this folder with the hubnet CLI.
# The keys are public (committed to the repository): never use them for a real network.
# Running this again makes new keys, hence a new network id; the committed files are what
# `hubnet devnet` and the tests use.
set -euo pipefail
cd "$(dirname "$0")"
hubnet=${HUBNET:-hubnet}
rm -f keys/*.key charter.toml
member() { # CODE EN RU NATIVE_TAG NATIVE
  "$hubnet" keygen --out "keys/$1.key" >/dev/null
  local args=(--code "$1" --key-file "keys/$1.key" --name "en=$2" --name "ru=$3")
  [ -n "${4:-}" ] && args+=(--name "$4=$5")
  "$hubnet" charter add-member charter.toml "${args[@]}"
}
"$hubnet" charter new --out charter.toml --quorum 2 \
  --name "en=Regional Hub of Civil Service (SAMPLE network)" \
  --name "ru=Региональный хаб в сфере государственной службы (ОБРАЗЕЦ сети)" \
  --name "kk=Мемлекеттік қызмет саласындағы өңірлік хаб (ҮЛГІ желі)"
member HUB "Secretariat of the Regional Hub" "Секретариат Регионального хаба" kk "Өңірлік хабтың хатшылығы"
member KZ "Kazakhstan" "Казахстан" kk "Қазақстан"
member KG "Kyrgyzstan" "Кыргызстан" ky "Кыргызстан"
member TJ "Tajikistan" "Таджикистан" tg "Тоҷикистон"
member UZ "Uzbekistan" "Узбекистан" uz "Oʻzbekiston"
member AZ "Azerbaijan" "Азербайджан" az "Azərbaycan"
member AM "Armenia" "Армения" hy "Հայաստան"
member GE "Georgia" "Грузия" ka "საქართველო"
for i in 1 2 3; do
  "$hubnet" keygen --out "keys/committee-$i.key" >/dev/null
  "$hubnet" charter add-committee charter.toml --key-file "keys/committee-$i.key"
done
"$hubnet" charter sign charter.toml --key keys/committee-1.key
"$hubnet" charter sign charter.toml --key keys/committee-2.key
for f in keys/*.key; do
  sed -i '1s/^/# SAMPLE KEY: PUBLICLY KNOWN, FOR THE DEVNET AND TESTS ONLY. NEVER USE IN PRODUCTION.\n/' "$f"
done
"$hubnet" charter verify charter.toml

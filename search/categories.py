"""File type categories: the one place that says which file is an image, a document, …

A file's category is decided by its extension first and by its MIME type only when the
extension is not one listed here: MIME types guessed from names are often wrong for
everyday files (``.ts`` comes back as a Qt translation, ``.rs`` as an XML format, ``.key``
as a PGP key), while an extension says what the person meant. Every listed extension
belongs to exactly one category and the MIME rules do not overlap, so each file has
exactly one category and the SQL filter (:func:`category_q`) agrees with
:func:`category_of` on every row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db.models import Case, F, Func, Q, Value, When
from django.db.models.expressions import Combinable
from django.db.models.functions import Lower, Replace


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    extensions: frozenset[str] = field(default_factory=frozenset)
    mime_types: frozenset[str] = field(default_factory=frozenset)
    mime_prefixes: tuple[str, ...] = ()

    def mime_matches(self, mime_type: str) -> bool:
        return mime_type in self.mime_types or mime_type.lower().startswith(self.mime_prefixes)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FOLDER = "folder"
OTHER = "other"

# Order matters only for how the choices are listed; categories never overlap.
FILE_CATEGORIES: tuple[Category, ...] = (
    Category(
        "image",
        "Images",
        _words(
            "jpg jpeg jpe png gif webp bmp tif tiff svg heic heif avif ico psd raw cr2 nef arw dng"
        ),
        mime_prefixes=("image/",),
    ),
    Category(
        "video",
        "Videos",
        _words("mp4 m4v mov avi mkv webm wmv flv mpeg mpg 3gp ogv"),
        mime_prefixes=("video/",),
    ),
    Category(
        "audio",
        "Audio",
        _words("mp3 wav flac aac ogg oga m4a opus wma aif aiff mid midi"),
        mime_prefixes=("audio/",),
    ),
    Category(
        "document",
        "Documents",
        _words("doc docx odt rtf txt md markdown pages epub tex"),
        _words(
            "application/msword "
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document "
            "application/vnd.oasis.opendocument.text application/rtf text/rtf text/plain "
            "text/markdown application/epub+zip application/vnd.apple.pages"
        ),
    ),
    Category(
        "spreadsheet",
        "Spreadsheets",
        _words("xls xlsx xlsm ods csv tsv numbers"),
        _words(
            "application/vnd.ms-excel "
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet "
            "application/vnd.oasis.opendocument.spreadsheet text/csv "
            "text/tab-separated-values application/vnd.apple.numbers"
        ),
    ),
    Category(
        "presentation",
        "Presentations",
        _words("ppt pptx odp key"),
        _words(
            "application/vnd.ms-powerpoint "
            "application/vnd.openxmlformats-officedocument.presentationml.presentation "
            "application/vnd.oasis.opendocument.presentation application/vnd.apple.keynote"
        ),
    ),
    Category("pdf", "PDF", _words("pdf"), _words("application/pdf")),
    Category(
        "archive",
        "Archives",
        _words("zip tar gz tgz bz2 xz 7z rar zst iso dmg"),
        _words(
            "application/zip application/x-zip-compressed application/x-tar application/gzip "
            "application/x-gzip application/x-bzip2 application/x-xz "
            "application/x-7z-compressed application/vnd.rar application/x-rar-compressed "
            "application/zstd application/x-iso9660-image"
        ),
    ),
    Category(
        "code",
        "Code",
        _words(
            "py pyi ipynb js mjs cjs ts tsx jsx java kt kts scala c h cc cpp cxx hpp cs go rs "
            "rb php swift dart lua pl r sh bash zsh fish ps1 bat sql html htm css scss sass "
            "less json yaml yml toml xml ini cfg conf vue svelte ex exs erl hs clj elm"
        ),
        _words(
            "text/x-python text/x-script.python application/javascript text/javascript "
            "application/typescript text/html text/css application/json application/xml "
            "text/xml text/x-c text/x-csrc text/x-chdr text/x-c++src text/x-java-source "
            "text/x-java application/x-sh text/x-sh application/x-httpd-php application/sql "
            "application/x-yaml text/yaml application/toml"
        ),
    ),
)

CATEGORY_KEYS: tuple[str, ...] = (FOLDER, *(c.key for c in FILE_CATEGORIES), OTHER)
_BY_EXTENSION: dict[str, Category] = {ext: c for c in FILE_CATEGORIES for ext in c.extensions}
KNOWN_EXTENSIONS: frozenset[str] = frozenset(_BY_EXTENSION)


def extension_of(name: str) -> str:
    """What follows the last dot, lower-cased (``""`` when there is no dot)."""
    return name.rsplit(".", 1)[1].lower() if "." in name else ""


def category_of(*, name: str, mime_type: str, is_folder: bool) -> str:
    if is_folder:
        return FOLDER
    by_extension = _BY_EXTENSION.get(extension_of(name))
    if by_extension is not None:
        return by_extension.key
    for category in FILE_CATEGORIES:
        if category.mime_matches(mime_type):
            return category.key
    return OTHER


def extension_expression() -> Combinable:
    """SQL for :func:`extension_of` on ``name``, the same on SQLite and PostgreSQL.

    ``rtrim(name, <every character but '.'>)`` strips back to the last dot, so removing
    that head from the name leaves what follows the last dot. ``lower()`` may differ from
    Python's for non-ASCII text, but every listed extension is ASCII."""
    head = Func(F("name"), Replace(F("name"), Value("."), Value("")), function="RTRIM")
    tail = Func(F("name"), head, Value(""), function="REPLACE")
    return Case(
        When(name__contains=".", then=Lower(tail)),
        default=Value(""),
    )


def _mime_q(category: Category) -> Q:
    parts = [Q(mime_type__in=sorted(category.mime_types))] if category.mime_types else []
    parts += [Q(mime_type__istartswith=prefix) for prefix in category.mime_prefixes]
    return reduce(or_, parts)


def category_q(key: str, *, ext_field: str) -> Q:
    """Rows in category ``key``; ``ext_field`` names an alias of :func:`extension_expression`."""
    if key == FOLDER:
        return Q(is_folder=True)
    unlisted = ~Q(**{f"{ext_field}__in": sorted(KNOWN_EXTENSIONS)})
    if key == OTHER:
        return Q(is_folder=False) & unlisted & ~reduce(or_, map(_mime_q, FILE_CATEGORIES))
    category = next(c for c in FILE_CATEGORIES if c.key == key)
    listed = Q(**{f"{ext_field}__in": sorted(category.extensions)})
    return Q(is_folder=False) & (listed | (unlisted & _mime_q(category)))

"""A IIIF Presentation manifest (API 2.1 or 3.0) read into what transcribe needs: the canvases and their images.

`read_presentation(address or path)` reads a manifest from an http(s) address (through `transcribe.download`,
which is polite and retries) or a local `.json` file and returns a `Presentation`: the object's descriptive fields
(label, summary, metadata, rights, required statement, provider, homepage, seeAlso, viewing direction) and its
canvases in order, each with its label and its image (`ImageRef`): the Image API service that serves it (address,
API version 1/2/3, profile, authentication services), the static image address and its size. A canvas with no
image is a lacuna (`Canvas.image is None`); its position still counts, so `Page:<file>/n` stays aligned with the
canvas.

Text values are normalised to language maps `{language or "none": [values]}`, whatever the version wrote (a plain
string, a list, JSON-LD `{"@value", "@language"}` objects, a 3.0 map). Values may hold HTML, as manifests have it.

What is refused, with one line each (InputError, exit 3): a file that is not JSON or not a manifest; a collection
(`IsCollection`, which lists the manifests it holds); a manifest with no canvases, or whose canvases hold no image
(audio, video, a PDF).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transcribe.errors import InputError

__all__ = ["Canvas", "ImageRef", "IsCollection", "Presentation", "parse_presentation",
           "read_presentation"]

LangMap = dict[str, list[str]]


@dataclass(frozen=True)
class ImageRef:
    """The image painted on a canvas and how to fetch it."""

    service: str | None  # the Image API service's base address (no trailing '/'), None when there is none
    service_version: int | None  # Image API version of the service: 1, 2 or 3
    profile: str | None  # the service's compliance profile as written ('level1', '.../image/2/level2.json')
    static: str | None  # the image resource's own address (often a full-size image; may be the service)
    format: str | None  # its media type, as the manifest says ('image/jpeg')
    width: int | None
    height: int | None
    auth: tuple[str, ...] = ()  # ids (or profiles) of IIIF Authentication services guarding the image


@dataclass(frozen=True)
class Canvas:
    position: int  # 1-based, in the manifest's order (= n of Page:<file>/n)
    id: str
    label: str | None  # the first value of the label, any language
    labels: LangMap
    width: int | None
    height: int | None
    image: ImageRef | None  # None: a lacuna (no image on this canvas)


@dataclass(frozen=True)
class Presentation:
    source: str  # the address or path read
    id: str
    version: int  # 2 or 3
    label: LangMap
    summary: LangMap
    metadata: tuple[tuple[LangMap, LangMap], ...]
    rights: tuple[str, ...]  # 3.0 rights, 2.x license (possibly several)
    required_statement: tuple[LangMap, LangMap] | None  # 3.0 requiredStatement; 2.x attribution, labelled "Attribution"
    provider: tuple[str, ...]  # 3.0 provider labels (or ids)
    homepage: tuple[str, ...]  # 3.0 homepage, 2.x related
    see_also: tuple[str, ...]
    viewing_direction: str | None
    canvases: tuple[Canvas, ...]

    @property
    def images(self) -> int:
        """How many canvases have an image."""
        return sum(1 for c in self.canvases if c.image is not None)

    @property
    def lacunae(self) -> tuple[int, ...]:
        """Positions of the canvases without an image."""
        return tuple(c.position for c in self.canvases if c.image is None)


class IsCollection(InputError):
    """A collection was given where a manifest was expected. `manifests`: (address, label) of what it holds."""

    def __init__(self, message: str, *, manifests: tuple[tuple[str, str | None], ...],
                 collections: tuple[tuple[str, str | None], ...] = (), hint: str | None = None) -> None:
        self.manifests = manifests
        self.collections = collections
        super().__init__(message, hint=hint)


# -- reading -------------------------------------------------------------------------------------------------------
def _name(source: str) -> str:
    """How to name the manifest in a message: a local file by its name, an address in full."""
    return source if re.match(r"(?i)https?://", source) else Path(source).name


def read_presentation(address_or_path: str | Path, *, session: Any = None,
                      require_images: bool = True) -> Presentation:
    """Read and parse a manifest. Raises InputError (not JSON, not a manifest, a collection, no images),
    download errors for an address that cannot be had. `require_images=False` reads a manifest that has no
    canvas with an image too (for its metadata)."""
    source = str(address_or_path)
    if re.match(r"(?i)https?://", source):
        from transcribe import download  # the one polite HTTP client (owner: dl)

        try:
            data = download.get_json(source, session=session)
        except InputError as e:  # the server sent something that is not JSON (a viewer's web page, ...)
            raise InputError(f"{source} is not a IIIF manifest: {e.message.removeprefix(source + ': ')}",
                             hint="Check the address: it should be the manifest's own (often ending in "
                                  "manifest or manifest.json), not the viewer's page.") from e
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError(f"{source} does not exist.", hint="Check the name and the folder of the manifest.")
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(f"{path.name} is not a IIIF manifest: it is not JSON ({e}).",
                             hint="Download the manifest again, or give its address.") from e
    return parse_presentation(data, source=source, require_images=require_images)


def parse_presentation(data: Any, *, source: str, require_images: bool = True) -> Presentation:
    """The `Presentation` of an already decoded manifest; see `read_presentation`."""
    name = _name(source)
    if not isinstance(data, dict):
        raise InputError(f"{name} is not a IIIF manifest: it is JSON, but not an object.",
                         hint="Give the address of a IIIF Presentation manifest (version 2.1 or 3.0).")
    kind = _kind(data)
    if kind == "Collection":
        raise _collection(data, name, source)
    if kind != "Manifest":
        said = f"its type is '{kind}'" if kind else "it has no IIIF type (@type sc:Manifest or type Manifest)"
        raise InputError(f"{name} is not a IIIF manifest: {said}.",
                         hint="Give the address of a IIIF Presentation manifest (version 2.1 or 3.0).")
    version = _version(data)
    auth_services = _auth_index(data.get("services"))
    raw_canvases = _v3_canvases(data) if version == 3 else _v2_canvases(data)
    canvases = tuple(_canvas(c, i, version, auth_services) for i, c in enumerate(raw_canvases, 1))
    p = Presentation(
        source=source,
        id=_id(data) or source,
        version=version,
        label=lang_map(data.get("label")),
        summary=lang_map(data.get("summary") if version == 3 else data.get("description")),
        metadata=tuple((lang_map(m.get("label")), lang_map(m.get("value")))
                       for m in _list(data.get("metadata")) if isinstance(m, dict)),
        rights=tuple(_strings(data.get("rights") if version == 3 else data.get("license"))),
        required_statement=_required_statement(data, version),
        provider=tuple(_agent(a) for a in _list(data.get("provider")) if _agent(a)),
        homepage=tuple(_ids(data.get("homepage") if version == 3 else data.get("related"))),
        see_also=tuple(_ids(data.get("seeAlso"))),
        viewing_direction=_viewing_direction(data, version),
        canvases=canvases,
    )
    if require_images:
        _check_images(p, raw_canvases, name, version)
    return p


def _check_images(p: Presentation, raw: list[Any], name: str, version: int) -> None:
    if not p.canvases:
        raise InputError(f"{name} has no canvases: the manifest lists no pages, so there is nothing to split.",
                         hint="Ask the library for the manifest of the digitised object itself (it may not be "
                              "digitised yet).")
    if p.images:
        return
    bodies = [b for c in raw for b in _bodies(c, version)]
    pdf = next((b for b in bodies if "pdf" in str(b.get("format", "")).lower()
                or str(_id(b) or "").lower().endswith(".pdf")), None)
    if pdf is not None:
        raise InputError(f"{name} offers its pages as a PDF ({_id(pdf)}), not as images.",
                         hint="Download that PDF and give it to transcribe itself: "
                              "transcribe split BOOK.pdf -o pages.")
    kinds = sorted({str(b.get("type") or b.get("@type") or "").split(":")[-1] for b in bodies} - {""})
    what = (" (" + ", ".join(kinds) + ")") if kinds else ""
    raise InputError(f"{name} holds no page images{what}: transcribe reads the text of pages, "
                     "so it needs a manifest of images.",
                     hint="Audio and video manifests cannot be transcribed here.")


# -- kinds and versions --------------------------------------------------------------------------------------------
def _kind(data: dict[str, Any]) -> str | None:
    t = data.get("type") or data.get("@type")
    if isinstance(t, list):
        t = next((x for x in t if isinstance(x, str)), None)
    if not isinstance(t, str):
        return None
    t = t.split(":")[-1]  # 'sc:Manifest' -> 'Manifest'
    return t


def _version(data: dict[str, Any]) -> int:
    contexts = " ".join(_strings(data.get("@context")))
    if "presentation/3" in contexts:
        return 3
    if "presentation/2" in contexts or "@type" in data:
        return 2
    return 3


def _id(obj: Any) -> str | None:
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        value = obj.get("id") or obj.get("@id")
        return value if isinstance(value, str) else None
    return None


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _strings(value: Any) -> list[str]:
    """Strings of a string, a list of strings or objects with an id (licences may be given either way)."""
    out = []
    for v in _list(value):
        s = v if isinstance(v, str) else _id(v)
        if s:
            out.append(s)
    return out


def _ids(value: Any) -> list[str]:
    return [s for s in (_id(v) for v in _list(value)) if s]


def _int(value: Any) -> int | None:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if n > 0 else None


# -- language maps -------------------------------------------------------------------------------------------------
def lang_map(value: Any) -> LangMap:
    """Any IIIF text value as {language or 'none': [values]}: a 3.0 map, a string, a list, @value objects."""
    out: LangMap = {}

    def add(lang: Any, text: Any) -> None:
        if text is None or isinstance(text, (dict, list)):
            return
        s = text if isinstance(text, str) else str(text)
        key = lang if isinstance(lang, str) and lang else "none"
        out.setdefault(key, []).append(s)

    if isinstance(value, dict) and "@value" in value:  # one JSON-LD value object
        add(value.get("@language"), value.get("@value"))
    elif isinstance(value, dict):  # a 3.0 language map
        for lang, texts in value.items():
            for t in _list(texts):
                add(lang, t)
    else:
        for v in _list(value):
            if isinstance(v, dict) and "@value" in v:
                add(v.get("@language"), v.get("@value"))
            elif isinstance(v, dict):  # a 3.0 map inside a list (seen in the wild)
                for lang, texts in v.items():
                    for t in _list(texts):
                        add(lang, t)
            else:
                add(None, v)
    return out


def first_value(m: LangMap) -> str | None:
    for values in m.values():
        for v in values:
            return v
    return None


def _required_statement(data: dict[str, Any], version: int) -> tuple[LangMap, LangMap] | None:
    if version == 3:
        rs = data.get("requiredStatement")
        if isinstance(rs, dict) and rs.get("value") is not None:
            return lang_map(rs.get("label")), lang_map(rs.get("value"))
        return None
    value = lang_map(data.get("attribution"))
    return ({"en": ["Attribution"]}, value) if value else None


def _agent(a: Any) -> str | None:
    if isinstance(a, dict):
        return first_value(lang_map(a.get("label"))) or _id(a)
    return a if isinstance(a, str) else None


def _viewing_direction(data: dict[str, Any], version: int) -> str | None:
    vd = data.get("viewingDirection")
    if vd is None and version == 2:
        seqs = _list(data.get("sequences"))
        vd = seqs[0].get("viewingDirection") if seqs and isinstance(seqs[0], dict) else None
    return vd if isinstance(vd, str) else None


# -- collections ---------------------------------------------------------------------------------------------------
def _collection(data: dict[str, Any], name: str, source: str) -> IsCollection:
    manifests: list[tuple[str, str | None]] = []
    collections: list[tuple[str, str | None]] = []
    members = _list(data.get("items")) + _list(data.get("members")) + _list(data.get("manifests")) + \
        _list(data.get("collections"))
    for m in members:
        mid = _id(m)
        if not mid:
            continue
        kind = _kind(m) if isinstance(m, dict) else None
        label = first_value(lang_map(m.get("label"))) if isinstance(m, dict) else None
        if (mid, label) in manifests or (mid, label) in collections:
            continue
        (collections if kind == "Collection" else manifests).append((mid, label))
    shown = ", ".join(mid for mid, _ in manifests[:10]) + (f" and {len(manifests) - 10} more"
                                                            if len(manifests) > 10 else "")
    held = f"{len(manifests)} manifest{'' if len(manifests) == 1 else 's'}"
    if collections:
        held += f" and {len(collections)} collection{'' if len(collections) == 1 else 's'}"
    return IsCollection(
        f"{name} is a IIIF collection of {held}, not one work" + (f": {shown}." if manifests else "."),
        manifests=tuple(manifests), collections=tuple(collections),
        hint=f"Give one manifest's address to split it, or run 'transcribe init --from {source}' to make one "
             "work per manifest.")


# -- canvases and their images -------------------------------------------------------------------------------------
def _v3_canvases(data: dict[str, Any]) -> list[Any]:
    return [c for c in _list(data.get("items")) if isinstance(c, dict) and _kind(c) in ("Canvas", None)]


def _v2_canvases(data: dict[str, Any]) -> list[Any]:
    seqs = [s for s in _list(data.get("sequences")) if isinstance(s, dict)]
    if not seqs:
        return []
    return [c for c in _list(seqs[0].get("canvases")) if isinstance(c, dict)]  # the first sequence is the default


def _bodies(canvas: dict[str, Any], version: int) -> list[dict[str, Any]]:
    """The painted resources of a canvas, best first (a Choice gives its items, the default first)."""
    found: list[dict[str, Any]] = []

    def add(body: Any) -> None:
        for b in _list(body):
            if not isinstance(b, dict):
                continue
            kind = _kind(b)
            if kind in ("Choice", "oa:Choice") or "items" in b and kind == "Choice" or "default" in b:
                add(b.get("default"))
                add(b.get("items"))
                add(b.get("item"))
            else:
                found.append(b)

    if version == 3:
        for page in _list(canvas.get("items")):
            if not isinstance(page, dict):
                continue
            for anno in _list(page.get("items")):
                if isinstance(anno, dict) and str(anno.get("motivation", "painting")).endswith("painting"):
                    add(anno.get("body"))
    else:
        for anno in _list(canvas.get("images")):
            if isinstance(anno, dict):
                add(anno.get("resource"))
    return found


def _is_image(body: dict[str, Any]) -> bool:
    kind = (_kind(body) or "").lower()
    fmt = str(body.get("format") or "").lower()
    if kind in ("image", "dctypes:image") or kind.endswith("image"):
        return True
    if fmt.startswith("image/"):
        return True
    return not kind and not fmt and bool(_image_service(body.get("service")))


def _canvas(c: dict[str, Any], position: int, version: int, auth_index: dict[str, str]) -> Canvas:
    labels = lang_map(c.get("label"))
    image = None
    for body in _bodies(c, version):
        if _is_image(body):
            image = _image_ref(body, auth_index)
            break
    return Canvas(position=position, id=_id(c) or f"#{position}", label=first_value(labels), labels=labels,
                  width=_int(c.get("width")), height=_int(c.get("height")), image=image)


def _image_ref(body: dict[str, Any], auth_index: dict[str, str]) -> ImageRef:
    service = _image_service(body.get("service"))
    sid = _id(service) if service else None
    auth: list[str] = []
    for holder in (body, service or {}):
        for s in _list(holder.get("service")):
            a = _auth_id(s, auth_index)
            if a and a not in auth:
                auth.append(a)
    profile = None
    if service:
        profile = next((p for p in _list(service.get("profile")) if isinstance(p, str)), None)
    return ImageRef(
        service=sid.rstrip("/") if sid else None,
        service_version=_service_version(service, profile) if service else None,
        profile=profile,
        static=_id(body),
        format=body.get("format") if isinstance(body.get("format"), str) else None,
        width=_int(body.get("width")),
        height=_int(body.get("height")),
        auth=tuple(auth),
    )


_IMAGE_TYPES = {"ImageService1": 1, "ImageService2": 2, "ImageService3": 3}


def _image_service(value: Any) -> dict[str, Any] | None:
    """The first Image API service among a resource's services (the newest version when several are given)."""
    best: tuple[int, dict[str, Any]] | None = None
    for s in _list(value):
        if not isinstance(s, dict) or not _id(s):
            continue
        kind = str(s.get("type") or s.get("@type") or "")
        contexts = " ".join(_strings(s.get("@context")))
        profiles = " ".join(p for p in _list(s.get("profile")) if isinstance(p, str))
        if kind in _IMAGE_TYPES or "/image/" in contexts or "image-api" in contexts or "/image/" in profiles \
                or "image-api" in profiles:
            v = _service_version(s, profiles) or 0
            if best is None or v > best[0]:
                best = (v, s)
    return best[1] if best else None


def _service_version(service: dict[str, Any], profile: str | None) -> int | None:
    kind = str(service.get("type") or service.get("@type") or "")
    if kind in _IMAGE_TYPES:
        return _IMAGE_TYPES[kind]
    text = " ".join(_strings(service.get("@context"))) + " " + (profile or "")
    for pattern, v in ((r"api/image/3", 3), (r"api/image/2", 2), (r"api/image/1|image-api/1", 1)):
        if re.search(pattern, text):
            return v
    if profile in ("level0", "level1", "level2"):
        return 3
    return None


_AUTH_PROFILES = re.compile(r"api/auth/|AuthCookieService|AuthAccessService|AuthProbeService|"
                            r"\b(login|clickthrough|kiosk|external)$")


def _auth_id(s: Any, auth_index: dict[str, str]) -> str | None:
    """The id of an authentication service (given in place, or by reference to the manifest's `services`)."""
    if isinstance(s, str):
        return s if s in auth_index else None
    if not isinstance(s, dict):
        return None
    sid = _id(s)
    if sid and sid in auth_index:
        return sid
    text = " ".join([str(s.get("type") or s.get("@type") or ""), " ".join(_strings(s.get("@context"))),
                     " ".join(p for p in _list(s.get("profile")) if isinstance(p, str))])
    if _AUTH_PROFILES.search(text):
        return sid or text.strip()
    return None


def _auth_index(services: Any) -> dict[str, str]:
    """A 3.0 manifest's top-level `services` that are authentication services, by id."""
    index = {}
    for s in _list(services):
        if isinstance(s, dict) and _id(s):
            text = " ".join([str(s.get("type") or s.get("@type") or ""),
                             " ".join(p for p in _list(s.get("profile")) if isinstance(p, str))])
            if _AUTH_PROFILES.search(text):
                index[str(_id(s))] = text
    return index

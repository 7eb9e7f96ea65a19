"""Faces in the originals: found by flickr_exodus.audit.faces (the faces extra) in worker
processes, one per core, and remembered in the catalog per (sha256, detector), so that a
rerun looks only at files it has not seen. Without the module, or without what it needs,
the audit goes on with Flickr's signals and says that faces were not checked."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from .. import processes
from ..dest import UsageProblem
from ..progress import plural

CHUNK = 32  # pictures handed out, then remembered, at once: a kill loses at most these


@dataclass
class Faces:
    """What the pass found: per sha256, (width, height, boxes) of the picture as displayed,
    or (None, None, None) when the detector could not read it."""
    checked: bool
    note: str | None
    detector: str | None = None
    found: dict[str, tuple] = field(default_factory=dict)
    looked_at: int = 0      # this run
    remembered: int = 0     # from earlier runs
    problems: list[str] = field(default_factory=list)


def detector(wanted: bool | None) -> tuple[ModuleType | None, str | None]:
    """The faces module when detection runs here and is wanted, else why not (one line).
    Asked for by --faces where it cannot run: a usage problem."""
    if wanted is False:
        return None, "faces not checked (--no-faces)"
    try:
        from . import faces
    except ImportError:
        why = "this exodus has no face detection (flickr_exodus.audit.faces is missing)"
    else:
        why = faces.missing()
        if why is None:
            return faces, None
    if wanted:
        raise UsageProblem(f"--faces: {why}")
    return None, f"faces not checked: {why}"


def find(module: ModuleType | None, note: str | None, cat, pictures: dict[str, Path], progress) -> Faces:
    """Faces in `pictures` (sha256 -> the original's path, inside DEST), from the cache or
    the detector."""
    if module is None:
        return Faces(False, note)
    result = Faces(True, None, module.DETECTOR)
    result.found = cat.known_faces(module.DETECTOR, pictures)
    result.remembered = len(result.found)
    todo = [(sha, path) for sha, path in pictures.items() if sha not in result.found]
    if todo:
        _detect(module, cat, todo, result, progress)
    result.note = (f"{plural(result.looked_at, 'picture')} looked at, {result.remembered} known from earlier "
                   f"runs ({module.DETECTOR})")
    return result


def _detect(module: ModuleType, cat, todo: list[tuple[str, Path]], result: Faces, progress) -> None:
    bar = progress.bar("faces", total=len(todo), unit="photo")
    try:
        with ProcessPoolExecutor(processes.cores(), mp_context=processes.context([module.__name__])) as pool:
            for start in range(0, len(todo), CHUNK):
                part = todo[start:start + CHUNK]
                answers = list(pool.map(module.detect, [str(path) for _, path in part]))
                _settle(module, cat, part, answers, result)
                bar.update(len(part))
    except BrokenProcessPool:  # a worker died (the OOM killer, a decoder's crash)
        result.problems.append("face detection stopped: a worker process died; run the audit again to go on "
                               "(what was found so far is kept)")
    finally:
        bar.close()


def _settle(module: ModuleType, cat, part: list[tuple[str, Path]], answers: list, result: Faces) -> None:
    """Each answer remembered; a missing file is not (it may come back; the audit's read of
    its EXIF says that it is missing)."""
    keep = []
    for (sha, _), answer in zip(part, answers):
        if answer == "missing":
            continue
        if isinstance(answer, tuple):
            width, height, boxes = answer
            found = (width, height, [list(box) for box in boxes])
        else:  # "unreadable": remembered too, so that the same bytes are not tried again
            found = (None, None, None)
        result.found[sha] = found
        keep.append((sha, *found))
    cat.remember_faces(module.DETECTOR, keep)
    result.looked_at += len(part)



"""The answer banner's flash: a new answer flashes for FLASH_S, even when the screen redraws meanwhile."""

from __future__ import annotations

import pytest

from app.ui import widgets
from app.ui.patch import Patch
from app.ui.widgets import ANSWER_BG, FLASH_BG, AnswerBanner
from app.viewmodels.answer import Answer
from tests.unit.test_camera_ui import FakePage


def test_a_redraw_before_the_flash_settles_keeps_the_flash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(widgets, "FLASH_S", 0)
    page = FakePage()
    banner = AnswerBanner(page)  # type: ignore[arg-type]
    answer = Answer("+1 Blue mug, 2 of 12", "ok", 1)
    banner.show(answer, Patch(page))  # type: ignore[arg-type]
    assert banner.root.bgcolor == FLASH_BG["ok"]
    banner.show(answer, Patch(page))  # type: ignore[arg-type]  # the receipt's lines, drawn just after
    assert banner.root.bgcolor == FLASH_BG["ok"], "a redraw of the same answer cut its flash short"
    assert len(page.tasks) == 1, "the same answer flashed twice"
    page.run_pending()
    assert banner.root.bgcolor == ANSWER_BG["ok"]
    banner.show(answer, Patch(page))  # type: ignore[arg-type]
    assert banner.root.bgcolor == ANSWER_BG["ok"], "a settled answer flashed again on a redraw"


def test_words_in_place_of_an_answer_are_not_recoloured_by_its_settling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(widgets, "FLASH_S", 0)
    page = FakePage()
    banner = AnswerBanner(page)  # type: ignore[arg-type]
    banner.show(Answer("+1 Blue mug, 2 of 12", "ok", 1), Patch(page))  # type: ignore[arg-type]
    banner.note("Camera stopped", "warn", Patch(page))  # type: ignore[arg-type]
    page.run_pending()
    assert banner.root.bgcolor == ANSWER_BG["warn"]

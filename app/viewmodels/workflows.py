"""The associate's workflow screens' view-models, handed to the shell as one bundle. No flet here."""

from __future__ import annotations

from dataclasses import dataclass

from app.viewmodels.counting import CountViewModel
from app.viewmodels.parked import ParkedViewModel
from app.viewmodels.picking import PickViewModel
from app.viewmodels.putaway import PutawayViewModel
from app.viewmodels.receiving import ReceivingViewModel


@dataclass(frozen=True, slots=True)
class Workflows:
    """One view-model per handheld screen, all acting as the shell's signed-in person."""

    receiving: ReceivingViewModel
    putaway: PutawayViewModel
    counting: CountViewModel
    picking: PickViewModel
    parked: ParkedViewModel

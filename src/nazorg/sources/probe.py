"""Try every source a besluit enables, for nobody: configuration errors fail every run alike.

Why: a check with ``wanneer: toestemming`` asks its source only for people who
consented. When that source was misconfigured (a lookup returning a fourth
column, a connection that does not exist), only their runs failed, and the task
log named the check and the melding: Airflow's run states told who consented.
Now the pipeline tries every source the gemeente's besluit may use at the start
of every run (:func:`nazorg.pipeline.plan`), before consent is read and without
asking about anyone, so such a run fails for everybody of that gemeente, with
the same message.

A source that cannot be reached is not a configuration error: its checks answer
``onbekend`` for whoever they ask, and the run goes on as before. The same
function can serve a deploy-time check (``nazorg register check``), since it
needs nothing from a melding.
"""

from __future__ import annotations

from datetime import date

from nazorg.plan import beslis
from nazorg.register import Besluit, Register
from nazorg.sources.errors import SourceError, SourceShapeError
from nazorg.sources.kinds import Sources, Vraag


class BronConfiguratieFout(RuntimeError):
    """A source the besluit enables cannot serve it, for anyone.

    The message names the besluit, the check and what is wrong (a reason code,
    column names, an error type): configuration, never data about a person, and
    the same for every run of the gemeente.
    """


def _te_toetsen(register: Register, besluit: Besluit) -> list[str]:
    """The checks the besluit lets run for someone: as if everybody had consented to everything."""
    iedereen = [entry.id for entry in register.checks]
    return [regel.check_id for regel in beslis(register, besluit, iedereen) if regel.uitvoeren]


def toets_besluit(register: Register, besluit: Besluit, sources: Sources, peildatum: date) -> int:
    """Try each source of each check the besluit enables; how many were tried.

    Raises :class:`BronConfiguratieFout` for the first one that cannot serve.
    """
    getoetst = 0
    besluit_id = besluit.besluit.id
    for check_id in _te_toetsen(register, besluit):
        entry = register.entry(check_id)
        vraag = Vraag(entry, besluit.checks[check_id], peildatum)
        for kind in (entry.bron, entry.aanvullende_bron):
            if kind is None:
                continue
            where = f"besluit {besluit_id}, check {check_id}, bron {kind}"
            try:
                sources.adapter(kind).toets(vraag)
            except SourceShapeError as exc:
                raise BronConfiguratieFout(f"{where}: {exc}") from None
            except SourceError:
                pass  # unreachable or failing for everyone: those checks answer onbekend, as always
            except (LookupError, OSError, ValueError) as exc:  # no adapter, connection or query file
                raise BronConfiguratieFout(f"{where}: {type(exc).__name__}: {exc}") from None
            getoetst += 1
    return getoetst

"""What the BRP says about its own record, and what that means for a ja/nee answer.

Why: a BRP answer is more than the field that was asked for. The APIs deliver,
unasked, what the registry knows about the reliability of that field and of the
whole persoonslijst, and a client that reads only the field answers ``ja`` for
a person who has died or for an address the gemeente has established nobody
lives at. These signals are *automatically delivered*: requesting them in
``fields`` is refused by the API, so reading them costs no extra data.

The signals, as the vendored specifications and the official features define them:

- ``opschortingBijhouding`` (persoon; reisdocument ``houder``): the persoonslijst
  is no longer kept up to date since ``datum``; ``reden.code`` O overlijden,
  E emigratie, M ministerieel besluit, R aangelegd in de RNI, F fout, ``.``
  onbekend. Always delivered when present. A record that is not kept cannot
  carry a definite answer: onbekend, ``persoon_overleden`` for O and
  ``bijhouding_opgeschort`` for any other (or unreadable) reden.
- ``indicatieVastgesteldVerblijftNietOpAdres`` (verblijfplaats ``Adres`` and
  ``Locatie``): the gemeente has *established* that the person does not live at
  the registered address. Delivered with any verblijfplaats field. For the
  woonadres question this is a positive answer: no woonadres (nee).
- ``inOnderzoek`` (on the persoon, the verblijfplaats and its verblijfadres, a
  kind and its geboorte, a reisdocument, its inhouding and its houder): the
  delivered fields it marks are being investigated. The API delivers it only
  for requested fields that are in onderzoek, and every field we request is one
  the answer rests on (data minimisation), so any delivered marker counts. The
  register entry's ``in_onderzoek`` decides per check: ``onbekend`` (the part of
  the answer that rests on it is open, reden ``bron_in_onderzoek``) or
  ``negeren`` (answer on the registered value).
- ``geheimhoudingPersoonsgegevens``, ``rni``, ``verificatie``: delivered but
  not about the truth of the answer (geheimhouding restricts verstrekking to
  third parties, not the gemeente's own task), so they do not change it.

Each ``*_uitslag`` function returns an :data:`Uitslag`: ``True``/``False`` for a
definite answer, or the :class:`~nazorg.models.Reden` why it is open. Order
matters and is the same everywhere: the record (opschorting) before the
identity (the BSN in onderzoek) before the question's own fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

from nazorg.models import Reden

#: A definite answer, or the reason it is open.
Uitslag = bool | Reden
#: What a check does with a field in onderzoek (register ``in_onderzoek``).
InOnderzoek = Literal["onbekend", "negeren"]

OVERLIJDEN: Final = "O"
_ADRES_TYPES: Final = frozenset({"Adres", "Locatie"})


def opschorting(bijgehouden: object) -> Reden | None:
    """Why a persoonslijst (a persoon or a reisdocument's houder) is no longer kept, if it is not."""
    if not isinstance(bijgehouden, Mapping) or bijgehouden.get("opschortingBijhouding") is None:
        return None
    opgeschort = bijgehouden["opschortingBijhouding"]
    reden = opgeschort.get("reden") if isinstance(opgeschort, Mapping) else None
    code = reden.get("code") if isinstance(reden, Mapping) else None
    return Reden.PERSOON_OVERLEDEN if code == OVERLIJDEN else Reden.BIJHOUDING_OPGESCHORT


def in_onderzoek(deel: object) -> bool:
    """Does this part of a response carry an ``inOnderzoek`` that marks anything?

    A marker with a true flag or a ``datumIngangOnderzoek*`` counts; an empty one
    or one with only false flags does not; one we cannot read counts (it can
    only make an answer onbekend, never turn it into ja or nee).
    """
    if not isinstance(deel, Mapping):
        return False
    marker = deel.get("inOnderzoek")
    if marker is None:
        return False
    if not isinstance(marker, Mapping):
        return True
    return any(
        value is True or (str(key).startswith("datumIngangOnderzoek") and value is not None)
        for key, value in marker.items()
    )


def een_ja(uitslagen: Sequence[Uitslag]) -> Uitslag:
    """True if any part says so; otherwise the first reason a part is open; otherwise False."""
    if any(u is True for u in uitslagen):
        return True
    for uitslag in uitslagen:
        if isinstance(uitslag, Reden):
            return uitslag
    return False


def of_ambigu(waarde: bool | None) -> Uitslag:
    """A value mapping's open answer (None) as ``bron_ambigu``."""
    return Reden.BRON_AMBIGU if waarde is None else waarde


def persoon_uitslag(persoon: Mapping[str, Any], vraag: Uitslag, in_onderzoek_telt: bool) -> Uitslag:
    """The record's signals first, then the question's own answer ``vraag``.

    ``inOnderzoek`` on the persoon itself can only concern the requested
    ``burgerservicenummer``: the identity the answer is matched on.
    """
    reden = opschorting(persoon)
    if reden is not None:
        return reden
    if in_onderzoek_telt and in_onderzoek(persoon):
        return Reden.BRON_IN_ONDERZOEK
    return vraag


def verblijft_niet_op_adres(verblijfplaats: object) -> Uitslag | None:
    """False when the gemeente established the person does not live at the address; else None.

    A value other than a boolean is unreadable, hence ``bron_ambigu``.
    """
    if not isinstance(verblijfplaats, Mapping) or verblijfplaats.get("type") not in _ADRES_TYPES:
        return None
    indicatie = verblijfplaats.get("indicatieVastgesteldVerblijftNietOpAdres")
    if indicatie is True:
        return False
    if indicatie is None or indicatie is False:
        return None
    return Reden.BRON_AMBIGU


def woonadres_uitslag(
    persoon: Mapping[str, Any], functie_adres: bool | None, in_onderzoek_telt: bool
) -> Uitslag:
    """Woonadres from the verblijfplaats: the established indicatie, then onderzoek, then functieAdres.

    The indicatie comes first: it *is* the outcome of the onderzoek that also
    marks the address (aanduiding 089999), so the address is known not to be lived at.
    """
    verblijfplaats = persoon.get("verblijfplaats")
    vastgesteld = verblijft_niet_op_adres(verblijfplaats)
    if vastgesteld is not None:
        return vastgesteld
    if (
        in_onderzoek_telt
        and isinstance(verblijfplaats, Mapping)
        and (in_onderzoek(verblijfplaats) or in_onderzoek(verblijfplaats.get("verblijfadres")))
    ):
        return Reden.BRON_IN_ONDERZOEK
    return of_ambigu(functie_adres)


def kind_in_onderzoek(kind: object) -> bool:
    """The kind, or its geboorte (the date the answer rests on), is in onderzoek."""
    geboorte = kind.get("geboorte") if isinstance(kind, Mapping) else None
    return in_onderzoek(kind) or in_onderzoek(geboorte)


def document_in_onderzoek(document: Mapping[str, Any]) -> bool:
    """A reisdocument's requested fields (end date, inhouding) are in onderzoek."""
    return in_onderzoek(document) or in_onderzoek(document.get("inhoudingOfVermissing"))


def houders_uitslag(
    documenten: Sequence[Mapping[str, Any]], bsn: str, in_onderzoek_telt: bool
) -> Reden | None:
    """Why the documents cannot answer for ``bsn`` because of their houder; None if they can.

    Every document must name ``bsn`` as its holder (``houder_onjuist`` if one
    names someone else or nobody: a document of another person says nothing
    about this one); then the houder's persoonslijst signals apply as for a persoon.
    """
    houders = [d.get("houder") for d in documenten]
    if any(not isinstance(h, Mapping) or h.get("burgerservicenummer") != bsn for h in houders):
        return Reden.HOUDER_ONJUIST
    for houder in houders:
        reden = opschorting(houder)
        if reden is not None:
            return reden
    if in_onderzoek_telt and any(in_onderzoek(h) for h in houders):
        return Reden.BRON_IN_ONDERZOEK
    return None

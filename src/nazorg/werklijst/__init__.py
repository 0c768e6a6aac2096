"""The coördinator's werklijst (issue 9 §3): the published basisdocumenten of one gemeente, behind a login.

:mod:`.accounts` (who may log in, hashed), :mod:`.sessie` (signed cookie, CSRF,
failed-login limit), :mod:`.lijst` (what the list shows, pure) and :mod:`.web`
(the pages, a router the intake service mounts under ``/werklijst``).
"""

"""The one use of Airflow's SMTP provider: send a message through an Airflow SMTP connection.

Why here: only this adapter package (and ``nazorg.connections``) may import
Airflow; :class:`nazorg.notificatie.SmtpNotifier` calls :func:`verstuur_email`
and turns whatever it raises into a reason code. The connection's fields mean
what they mean to ``SmtpHook`` (host, port, login/password, extras
``from_email``, ``disable_tls``, ``disable_ssl``, ``timeout``, ``retry_limit``).
"""

from __future__ import annotations


def verstuur_email(conn_id: str, to: str, onderwerp: str, html_inhoud: str) -> None:
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=conn_id) as hook:
        hook.send_email_smtp(to=[to], subject=onderwerp, html_content=html_inhoud)

-- Simulated gemeentelijke bronsystemen (connection nazorg_bronnen).
-- Like real systems they hold far more than a check may see (amounts,
-- diagnoses, delicts): the lookups in sql/lookups select only what a
-- check needs, and the guard tests prove that more is blocked.
DROP TABLE IF EXISTS vh_doelgroep;
DROP TABLE IF EXISTS mo_clienten;
DROP TABLE IF EXISTS wonen_huurschuld;
DROP TABLE IF EXISTS wi_uitkeringen;
DROP TABLE IF EXISTS wi_aanvragen;
DROP TABLE IF EXISTS cjib_vorderingen;
DROP TABLE IF EXISTS shv_dossiers;
DROP TABLE IF EXISTS wmo_voorzieningen;
DROP TABLE IF EXISTS ggz_profielen;
DROP TABLE IF EXISTS ggd_meldingen;
CREATE TABLE vh_doelgroep (bsn TEXT NOT NULL, actief INTEGER NOT NULL, regievoerder TEXT, delict_omschrijving TEXT);
CREATE TABLE mo_clienten (bsn TEXT NOT NULL, opvanglocatie TEXT, contactteam TEXT, instroomdatum TEXT);
CREATE TABLE wonen_huurschuld (bsn TEXT NOT NULL, verhuurder TEXT, achterstand_bedrag NUMERIC, team TEXT);
CREATE TABLE wi_uitkeringen (bsn TEXT NOT NULL, regeling TEXT, bedrag_maand NUMERIC, status TEXT, reintegratie_traject INTEGER, consulent_team TEXT);
CREATE TABLE wi_aanvragen (bsn TEXT NOT NULL, regeling TEXT, aanvraagdatum TEXT, status TEXT NOT NULL, consulent_team TEXT);
CREATE TABLE cjib_vorderingen (bsn TEXT NOT NULL, openstaand_bedrag NUMERIC, team TEXT);
CREATE TABLE shv_dossiers (bsn TEXT NOT NULL, totale_schuld NUMERIC, schuldhulpverlener_team TEXT);
CREATE TABLE wmo_voorzieningen (bsn TEXT NOT NULL, voorziening TEXT, einddatum TEXT, team TEXT);
CREATE TABLE ggz_profielen (bsn TEXT NOT NULL, risicoprofiel INTEGER NOT NULL, diagnose TEXT, behandelteam TEXT);
CREATE TABLE ggd_meldingen (bsn TEXT NOT NULL, ziekte TEXT, registratiedatum TEXT, afgesloten_op TEXT, team TEXT);
CREATE INDEX vh_doelgroep_bsn ON vh_doelgroep (bsn);
CREATE INDEX mo_clienten_bsn ON mo_clienten (bsn);
CREATE INDEX wonen_huurschuld_bsn ON wonen_huurschuld (bsn);
CREATE INDEX wi_uitkeringen_bsn ON wi_uitkeringen (bsn);
CREATE INDEX wi_aanvragen_bsn ON wi_aanvragen (bsn);
CREATE INDEX cjib_vorderingen_bsn ON cjib_vorderingen (bsn);
CREATE INDEX shv_dossiers_bsn ON shv_dossiers (bsn);
CREATE INDEX wmo_voorzieningen_bsn ON wmo_voorzieningen (bsn);
CREATE INDEX ggz_profielen_bsn ON ggz_profielen (bsn);
CREATE INDEX ggd_meldingen_bsn ON ggd_meldingen (bsn)

"""Schema migrations, shipped as package data: ``postgres/NNNN_name.sql``, applied in order by
:mod:`persistence.migrate`. A migration file is never edited once released; add a new one."""

-- The next file_id of a CDR file (pipeline/warehouse/cdr.py).
SELECT nextval('cdr_file_id_seq')

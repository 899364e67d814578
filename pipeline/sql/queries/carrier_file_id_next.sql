-- The next file_id of a carrier call export (pipeline/warehouse/cdr.py).
SELECT nextval('carrier_file_id_seq')

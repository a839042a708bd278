-- The Fluxion `ventas` table, created when absent and completed when adopted (columns added if missing).
-- Its unique key is per store: invoice numbers repeat across stores.
CREATE TABLE IF NOT EXISTS ventas (
  id bigserial PRIMARY KEY,
  numero_factura varchar(100) NOT NULL,
  fecha_venta timestamp NOT NULL,
  ubicacion_id varchar(50) NOT NULL,
  almacen_codigo varchar(50),
  almacen_nombre varchar(100),
  producto_id varchar(50),
  cuadrante_producto varchar(50),
  cantidad_vendida numeric(18,4),
  peso_unitario numeric(18,4),
  peso_calculado numeric(18,4),
  total_cantidad_por_unidad_medida numeric(18,4),
  unidad_medida_venta varchar(20),
  factor_unidad_medida numeric(18,4),
  precio_unitario numeric(18,4),
  costo_unitario numeric(18,4),
  venta_total numeric(18,4),
  costo_total numeric(18,4),
  utilidad_bruta numeric(18,4),
  margen_bruto_pct numeric(8,2),
  fecha_creacion timestamp NOT NULL DEFAULT now()
);
-- The loader finds existing rows by key and updates them by id.
ALTER TABLE ventas ADD COLUMN IF NOT EXISTS id bigserial;
ALTER TABLE ventas ADD COLUMN IF NOT EXISTS almacen_codigo varchar(50);
ALTER TABLE ventas ADD COLUMN IF NOT EXISTS almacen_nombre varchar(100);
ALTER TABLE ventas ADD COLUMN IF NOT EXISTS producto_id varchar(50);
ALTER TABLE ventas ADD COLUMN IF NOT EXISTS cuadrante_producto varchar(50);
ALTER TABLE ventas ADD COLUMN IF NOT EXISTS cantidad_vendida numeric(18,4);
ALTER TABLE ventas ADD COLUMN IF NOT EXISTS peso_unitario numeric(18,4);
ALTER TABLE ventas ADD COLUMN IF NOT EXISTS peso_calculado numeric(18,4);
ALTER TABLE ventas ADD COLUMN IF NOT EXISTS total_cantidad_por_unidad_medida numeric(18,4);
ALTER TABLE ventas ADD COLUMN IF NOT EXISTS unidad_medida_venta varchar(20);
ALTER TABLE ventas ADD COLUMN IF NOT EXISTS factor_unidad_medida numeric(18,4);
ALTER TABLE ventas ADD COLUMN IF NOT EXISTS precio_unitario numeric(18,4);
ALTER TABLE ventas ADD COLUMN IF NOT EXISTS costo_unitario numeric(18,4);
ALTER TABLE ventas ADD COLUMN IF NOT EXISTS venta_total numeric(18,4);
ALTER TABLE ventas ADD COLUMN IF NOT EXISTS costo_total numeric(18,4);
ALTER TABLE ventas ADD COLUMN IF NOT EXISTS utilidad_bruta numeric(18,4);
ALTER TABLE ventas ADD COLUMN IF NOT EXISTS margen_bruto_pct numeric(8,2);
ALTER TABLE ventas ADD COLUMN IF NOT EXISTS fecha_creacion timestamp NOT NULL DEFAULT now();
-- An adopted table may already have this key under another name: building a second copy on a large table would
-- cost time and space for nothing.
DO $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_index x
    WHERE x.indrelid = 'ventas'::regclass AND x.indisunique AND x.indnkeyatts = 2
      AND (SELECT array_agg(a.attname::text ORDER BY a.attname)
           FROM pg_attribute a WHERE a.attrelid = x.indrelid AND a.attnum = ANY (x.indkey::int2[]))
          = ARRAY['numero_factura', 'ubicacion_id']
  ) THEN
    CREATE UNIQUE INDEX ventas_factura_ubicacion_key ON ventas (numero_factura, ubicacion_id);
  END IF;
END $$;
-- Day-range reads per store: the summary refresh, --mirror and --reconcile.
CREATE INDEX IF NOT EXISTS ventas_ubicacion_fecha_idx ON ventas (ubicacion_id, fecha_venta);

-- One row per store and local day, kept up to date by every load in the same transaction: the coverage report
-- reads this, never a scan of `ventas`.
CREATE TABLE IF NOT EXISTS store_days (
  store_id varchar(50) NOT NULL,
  day date NOT NULL,
  -- rows in `ventas` for the day and their USD total
  lines integer NOT NULL DEFAULT 0,
  total_usd numeric(18,4) NOT NULL DEFAULT 0,
  -- what KLK reported the last time the whole day was extracted: distinct valid lines and their USD total
  -- (0 when KLK answered the whole day with no lines); null when never extracted whole
  klk_lines integer,
  klk_total_usd numeric(18,4),
  whole_day_extracted_at timestamptz,
  -- the last extraction that touched the day, whole or partial
  extracted_at timestamptz,
  last_run_id bigint,
  PRIMARY KEY (store_id, day)
);

-- Run history: every ETL run, backfill step and recovery, with per-store detail.
CREATE TABLE IF NOT EXISTS etl_runs (
  id bigserial PRIMARY KEY,
  run_type varchar(20) NOT NULL CHECK (run_type IN ('scheduled', 'manual', 'recovery', 'backfill')),
  status varchar(20) NOT NULL CHECK (status IN ('running', 'success', 'partial', 'failed', 'skipped')),
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  window_from timestamp,
  window_to timestamp,
  stores text[] NOT NULL DEFAULT '{}',
  lines_extracted bigint NOT NULL DEFAULT 0,
  rows_inserted bigint NOT NULL DEFAULT 0,
  rows_updated bigint NOT NULL DEFAULT 0,
  rows_unchanged bigint NOT NULL DEFAULT 0,
  rows_deleted bigint NOT NULL DEFAULT 0,
  duplicates bigint NOT NULL DEFAULT 0,
  quarantined bigint NOT NULL DEFAULT 0,
  store_results jsonb NOT NULL DEFAULT '{}',
  error text,
  command text
);
CREATE INDEX IF NOT EXISTS etl_runs_started_idx ON etl_runs (started_at DESC);

-- Every KLK request with its duration: the planner estimates from these.
CREATE TABLE IF NOT EXISTS klk_requests (
  id bigserial PRIMARY KEY,
  run_id bigint,
  store_id varchar(50) NOT NULL,
  day_from date NOT NULL,
  day_to date NOT NULL,
  hora_desde varchar(8),
  hora_hasta varchar(8),
  outcome varchar(20) NOT NULL CHECK (outcome IN ('ok', 'empty', 'failed', 'timeout')),
  lines integer NOT NULL DEFAULT 0,
  duration_ms integer NOT NULL,
  attempts integer NOT NULL DEFAULT 1,
  error text,
  requested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS klk_requests_store_idx ON klk_requests (store_id, requested_at DESC);

-- Lines KLK sent that were not loaded, with the reason.
CREATE TABLE IF NOT EXISTS quarantine (
  id bigserial PRIMARY KEY,
  run_id bigint,
  store_id varchar(50) NOT NULL,
  numero_factura varchar(100),
  linea varchar(20),
  reason text NOT NULL,
  line jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Per-store leases: two runs never process the same store at once; a dead holder's lease expires.
CREATE TABLE IF NOT EXISTS store_leases (
  store_id varchar(50) PRIMARY KEY,
  holder text NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);

-- A backfill and its chunks (the ledger): what is left is exactly the chunks not yet done.
CREATE TABLE IF NOT EXISTS backfills (
  id bigserial PRIMARY KEY,
  status varchar(20) NOT NULL CHECK (status IN ('running', 'complete', 'partial', 'failed')),
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  params jsonb NOT NULL,
  summary jsonb
);

CREATE TABLE IF NOT EXISTS backfill_chunks (
  id bigserial PRIMARY KEY,
  backfill_id bigint NOT NULL REFERENCES backfills (id) ON DELETE CASCADE,
  parent_id bigint REFERENCES backfill_chunks (id),
  store_id varchar(50) NOT NULL,
  day_from date NOT NULL,
  day_to date NOT NULL,
  state varchar(20) NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed', 'split')),
  attempts integer NOT NULL DEFAULT 0,
  lines integer,
  rows_inserted integer,
  rows_updated integer,
  rows_deleted integer,
  duplicates integer,
  quarantined integer,
  error text,
  lease_owner text,
  lease_until timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS backfill_chunks_backfill_idx ON backfill_chunks (backfill_id, state);

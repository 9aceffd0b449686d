-- The api's schema. Applied at start-up by `lab api` (sqlx migrations,
-- embedded in the binary). sqlx holds a PostgreSQL advisory lock while it
-- migrates, so replicas starting together apply this once.

-- Products and their stock. Product 1 is the hot row every order in the tx
-- scenario locks. `initial_stock` is what POST /admin/reset restores.
CREATE TABLE products (
    id            BIGINT PRIMARY KEY,
    name          TEXT   NOT NULL,
    stock         BIGINT NOT NULL CHECK (stock >= 0),
    initial_stock BIGINT NOT NULL CHECK (initial_stock >= 0)
);

CREATE TABLE orders (
    id          BIGSERIAL   PRIMARY KEY,
    product_id  BIGINT      NOT NULL REFERENCES products (id),
    quantity    INTEGER     NOT NULL CHECK (quantity > 0),
    price_cents BIGINT      NOT NULL CHECK (price_cents >= 0),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Enough stock that a workshop never sells out: a 60 s run at a few hundred
-- orders per second takes well under a million.
INSERT INTO products (id, name, stock, initial_stock) VALUES
    (1, 'workshop sticker', 100000000, 100000000),
    (2, 'workshop mug',     100000000, 100000000),
    (3, 'workshop hoodie',  100000000, 100000000);

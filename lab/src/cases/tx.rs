//! Case 2: transaction scope. `POST /cases/tx` with `{"product_id": 1, "quantity": 1}`
//!
//! Placing an order locks the product's stock row, asks dep (the pricing
//! service) for the price, takes the stock and records the order. Every
//! order in the scenario is for the same popular product: one hot row.
//!
//! Watch `/debug/dbstats` during a run: connections in use and waits.

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use sqlx::{Acquire, PgConnection};

use crate::{
    api::{error::ApiError, state::AppState},
    server::JsonBody,
};

/// Most units one order may take.
const MAX_QUANTITY: i32 = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    pub product_id: i64,
    pub quantity: i32,
}

#[derive(Debug, Serialize)]
pub struct Receipt {
    pub order_id: i64,
    pub product_id: i64,
    pub quantity: i32,
    pub price_cents: i64,
    pub stock_left: i64,
}

pub async fn place_order(
    State(state): State<AppState>,
    JsonBody(order): JsonBody<OrderRequest>,
) -> Result<(StatusCode, Json<Receipt>), ApiError> {
    if !(1..=MAX_QUANTITY).contains(&order.quantity) {
        return Err(ApiError::Invalid(format!(
            "quantity must be from 1 to {MAX_QUANTITY}, got {}",
            order.quantity
        )));
    }

    let mut conn = state.db.acquire().await?;
    let mut tx = conn.begin().await?;
    let stock = lock_stock(&mut tx, &order).await?;

    // LAB: STEP2 TODO: the pricing call happens inside the transaction. While
    // dep thinks, this request holds the row lock on the hot product and one
    // pooled connection. Every other order waits for the lock, each holding a
    // connection too, until the pool is empty and new requests wait for it.
    let price = state.dep.call(&state.workload.tx_dep).await?;
    let price_cents = 100 + i64::from(price.value % 900);

    let order_id = record_order(&mut tx, &order, price_cents).await?;
    tx.commit().await?;

    let receipt = Receipt {
        order_id,
        product_id: order.product_id,
        quantity: order.quantity,
        price_cents,
        stock_left: stock - i64::from(order.quantity),
    };
    Ok((StatusCode::CREATED, Json(receipt)))
}

/// Locks the product's row until the transaction ends and returns its stock.
async fn lock_stock(tx: &mut PgConnection, order: &OrderRequest) -> Result<i64, ApiError> {
    let stock: Option<i64> =
        sqlx::query_scalar("SELECT stock FROM products WHERE id = $1 FOR UPDATE")
            .bind(order.product_id)
            .fetch_optional(&mut *tx)
            .await?;
    match stock {
        None => Err(ApiError::NotFound(format!(
            "no product with id {}",
            order.product_id
        ))),
        Some(stock) if stock < i64::from(order.quantity) => Err(ApiError::Conflict(format!(
            "only {stock} left of product {}",
            order.product_id
        ))),
        Some(stock) => Ok(stock),
    }
}

/// Takes the stock and inserts the order; returns the order's id.
async fn record_order(
    tx: &mut PgConnection,
    order: &OrderRequest,
    price_cents: i64,
) -> Result<i64, ApiError> {
    sqlx::query("UPDATE products SET stock = stock - $2 WHERE id = $1")
        .bind(order.product_id)
        .bind(i64::from(order.quantity))
        .execute(&mut *tx)
        .await?;
    let order_id = sqlx::query_scalar(
        "INSERT INTO orders (product_id, quantity, price_cents) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(order.product_id)
    .bind(order.quantity)
    .bind(price_cents)
    .fetch_one(&mut *tx)
    .await?;
    Ok(order_id)
}

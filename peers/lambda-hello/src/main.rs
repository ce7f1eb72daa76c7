//! The Lambda init floor: `lambda_http` answering every event with fixed
//! text, nothing else. `scripts/lambda-init.sh` times exec to the first
//! poll of the runtime API for this and for `calculator-lambda`.

use lambda_http::{Body, Error, Request, Response, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_req: Request| async { Ok::<_, Error>(Response::new(Body::from("hello"))) })).await
}

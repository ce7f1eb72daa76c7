//! The caller API Gateway already authenticated, read from the Lambda
//! request context ([`AuthLayer::trust_gateway_authorizer`]): a JWT
//! authorizer's claims (HTTP APIs), a Cognito user pool authorizer's claims
//! (REST APIs), a Lambda authorizer's `principalId` or context, or the IAM
//! caller's ARN.
//!
//! [`AuthLayer::trust_gateway_authorizer`]: super::AuthLayer::trust_gateway_authorizer

use std::collections::HashMap;

use lambda_http::aws_lambda_events::apigw::ApiGatewayRequestAuthorizer;
use lambda_http::request::RequestContext;
use mcp_core::server::Principal;
use serde_json::{Map, Value, json};

/// The principal the gateway's authorizer vouches for, if any.
pub(super) fn principal(extensions: &http::Extensions) -> Option<Principal> {
    match extensions.get::<RequestContext>()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.authorizer.as_ref().and_then(from_authorizer),
        RequestContext::ApiGatewayV1(ctx) => {
            from_authorizer(&ctx.authorizer).or_else(|| iam_caller(ctx.identity.user_arn.as_deref()))
        }
        _ => None,
    }
}

fn from_authorizer(authorizer: &ApiGatewayRequestAuthorizer) -> Option<Principal> {
    if let Some(jwt) = &authorizer.jwt {
        let claims: Map<String, Value> = jwt.claims.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let scopes = match &jwt.scopes {
            Some(scopes) => scopes.clone(),
            None => scope_list(jwt.claims.get("scope").map(String::as_str)),
        };
        return from_claims(&claims, scopes);
    }
    // REST APIs put the whole authorizer object here (`claims` from a
    // Cognito user pool, or a Lambda authorizer's `principalId` and
    // context); HTTP APIs a Lambda authorizer's context.
    let fields = &authorizer.fields;
    if let Some(Value::Object(claims)) = fields.get("claims") {
        let scopes = scope_list(claims.get("scope").and_then(Value::as_str));
        return from_claims(claims, scopes);
    }
    if !fields.is_empty() {
        return from_context(fields);
    }
    iam_caller(authorizer.iam.as_ref().and_then(|iam| iam.user_arn.as_deref()))
}

/// An IAM caller, named by its ARN.
fn iam_caller(arn: Option<&str>) -> Option<Principal> {
    let arn = arn.filter(|a| !a.is_empty())?;
    Some(Principal::new(arn).with_claims(json!({ "userArn": arn })))
}

fn scope_list(scope: Option<&str>) -> Vec<String> {
    scope.map(|s| s.split_whitespace().map(str::to_owned).collect()).unwrap_or_default()
}

fn from_claims(claims: &Map<String, Value>, scopes: Vec<String>) -> Option<Principal> {
    let subject = ["sub", "client_id", "username"].iter().find_map(|k| claims.get(*k).and_then(Value::as_str))?;
    Some(Principal::new(subject).with_scopes(scopes).with_claims(Value::Object(claims.clone())))
}

/// A Lambda authorizer's context: `principalId`, else `sub` or `userId`.
fn from_context(context: &HashMap<String, Value>) -> Option<Principal> {
    let subject = ["principalId", "sub", "userId", "user_id"].iter().find_map(|k| context.get(*k)?.as_str())?;
    let claims: Map<String, Value> = context.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    Some(Principal::new(subject).with_claims(Value::Object(claims)))
}

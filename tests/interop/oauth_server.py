"""A local OAuth 2.1 authorization server for the interop tests, built on Authlib (Flask integration).

What an MCP client meets at a real issuer, on 127.0.0.1:
- RFC 8414 metadata (`/.well-known/oauth-authorization-server`, and the OIDC discovery form the resource server
  reads its JWKS URL from);
- RFC 7591 dynamic client registration (open: any client may register, as MCP clients expect);
- the authorization-code grant with PKCE (S256 required) and RFC 9207's `iss` on the redirect;
- RFC 9068 JWT access tokens signed RS256 with a key published at `/jwks`, whose `aud` is the RFC 8707
  `resource` the client asked for (Authlib leaves resource indicators to the application: the code remembers
  the resource it was issued for, and the token request must name the same one).

The resource owner is a fixed user who has already signed in and consents to whatever is asked: the test stands
in for the browser. Everything the server saw is kept in `seen` for the tests to check.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import Flask, jsonify, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

USER = "ada"
SCOPES = ["mcp:tools", "mcp:admin"]


@dataclass
class Client(ClientMixin):
    """A registered client, as RFC 7591 registered it."""

    client_id: str
    client_secret: str | None
    metadata: dict[str, Any]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.metadata.get("redirect_uris") or []
        return uris[0] if uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in (self.metadata.get("redirect_uris") or [])

    def check_client_secret(self, client_secret: str) -> bool:
        return self.client_secret is not None and client_secret == self.client_secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint != "token":
            return True
        return method == self.metadata.get("token_endpoint_auth_method", "client_secret_basic")

    def check_response_type(self, response_type: str) -> bool:
        return response_type in (self.metadata.get("response_types") or ["code"])

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in (self.metadata.get("grant_types") or ["authorization_code"])


@dataclass
class Code:
    """An issued authorization code and what it was issued for."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    resource: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    issued: float = field(default_factory=time.time)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return time.time() - self.issued > 60

    def get_code_challenge(self) -> str | None:
        return self.code_challenge

    def get_code_challenge_method(self) -> str | None:
        return self.code_challenge_method


@dataclass
class User:
    name: str

    def get_user_id(self) -> str:
        return self.name


@dataclass
class Seen:
    """What the authorization server was asked, for the tests to check."""

    registrations: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[dict[str, str]] = field(default_factory=list)
    tokens: list[dict[str, Any]] = field(default_factory=list)


class InvalidTarget(OAuth2Error):
    """RFC 8707 §2: a resource that is not an absolute URI without a fragment, or not the one the code was for."""

    error = "invalid_target"


def valid_resource(resource: str | None) -> bool:
    if resource is None:
        return True
    parsed = urlparse(resource)
    return bool(parsed.scheme and parsed.netloc and not parsed.fragment)


class LocalAuthorizationServer:
    """The Flask app and its Authlib server, listening on 127.0.0.1:`port` in a thread."""

    def __init__(self, port: int) -> None:
        self.issuer = f"http://127.0.0.1:{port}"
        self.port = port
        self.key = RSAKey.generate_key(2048, parameters={"kid": "local-as-1", "alg": "RS256", "use": "sig"})
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, Code] = {}
        self.seen = Seen()
        self.app = self._app()

    # -- tokens --------------------------------------------------------------------------------

    def mint(self, *, aud: str, scope: str = "mcp:tools", sub: str = USER, lifetime: int = 300) -> str:
        """A token as the token endpoint would issue it, for the tests' negative cases."""
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": sub, "aud": aud, "client_id": "minted", "scope": scope,
                  "iat": now, "exp": now + lifetime, "jti": f"minted-{now}"}
        return jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": "local-as-1"}, claims, self.key)

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "registration_endpoint": f"{self.issuer}/register",
            "jwks_uri": f"{self.issuer}/jwks",
            "scopes_supported": SCOPES,
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
            # The OIDC discovery form needs these too.
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    # -- the app -------------------------------------------------------------------------------

    def _app(self) -> Flask:
        app = Flask("local-authorization-server")
        owner = self

        def query_client(client_id: str) -> Client | None:
            return owner.clients.get(client_id)

        def save_token(token: dict[str, Any], req: Any) -> None:
            owner.seen.tokens.append({"client_id": req.client.get_client_id(), **token})

        server = AuthorizationServer(app, query_client=query_client, save_token=save_token)

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

            def save_authorization_code(self, code: str, req: Any) -> Code:
                data = req.payload.data
                resource = data.get("resource")
                if not valid_resource(resource):
                    raise InvalidTarget(description="resource must be an absolute URI without a fragment")
                item = Code(code=code, client_id=req.client.get_client_id(), redirect_uri=req.payload.redirect_uri,
                            scope=req.payload.scope or "", resource=resource,
                            code_challenge=data.get("code_challenge"),
                            code_challenge_method=data.get("code_challenge_method"))
                owner.codes[code] = item
                return item

            def query_authorization_code(self, code: str, client: Client) -> Code | None:
                item = owner.codes.get(code)
                if item is None or item.client_id != client.get_client_id() or item.is_expired():
                    return None
                asked = request.form.get("resource")
                if asked is not None and asked != item.resource:
                    raise InvalidTarget(description="resource differs from the one the code was issued for")
                return item

            def delete_authorization_code(self, authorization_code: Code) -> None:
                owner.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: Code) -> User:
                return User(USER)

        class Registration(ClientRegistrationEndpoint):
            def authenticate_token(self, req: Any) -> bool:
                return True  # open registration, as MCP clients expect of an authorization server

            def get_server_metadata(self) -> dict[str, Any]:
                return owner.metadata()

            def save_client(self, client_info: dict[str, Any], client_metadata: dict[str, Any], req: Any) -> Client:
                method = client_metadata.get("token_endpoint_auth_method", "client_secret_basic")
                client = Client(client_id=client_info["client_id"],
                                client_secret=None if method == "none" else client_info["client_secret"],
                                metadata={**client_metadata, "token_endpoint_auth_method": method})
                owner.clients[client.client_id] = client
                owner.seen.registrations.append(dict(client_metadata))
                return client

        class Tokens(JWTBearerTokenGenerator):
            def get_jwks(self) -> RSAKey:
                return owner.key

            def get_audiences(self, client: Client, user: User, scope: str) -> str:
                # RFC 8707: the token is for the resource the code was issued for (checked in
                # query_authorization_code); without one, Authlib's default (the client id), which no
                # resource server here accepts.
                return request.form.get("resource") or client.get_client_id()

        class Issuer(IssuerParameter):
            def get_issuer(self) -> str:
                return owner.issuer

        server.register_grant(CodeGrant, [CodeChallenge(required=True)])
        server.register_endpoint(Registration)
        server.register_token_generator("default", Tokens(issuer=self.issuer))
        server.register_extension(Issuer())

        @app.get("/.well-known/oauth-authorization-server")
        @app.get("/.well-known/openid-configuration")
        def metadata() -> Any:
            return jsonify(owner.metadata())

        @app.get("/jwks")
        def jwks() -> Any:
            return jsonify({"keys": [owner.key.as_dict(private=False)]})

        @app.post("/register")
        def register() -> Any:
            return server.create_endpoint_response("client_registration")

        @app.get("/authorize")
        def authorize() -> Any:
            owner.seen.authorizations.append(dict(request.args))
            resource = request.args.get("resource")
            if not valid_resource(resource):
                return jsonify({"error": "invalid_target"}), 400
            user = User(USER)
            try:
                grant = server.get_consent_grant(end_user=user)
            except OAuth2Error as error:
                return jsonify(dict(error.get_body())), error.status_code
            # The signed-in user consents: the step a browser would show.
            return server.create_authorization_response(grant_user=user, grant=grant)

        @app.post("/token")
        def token() -> Any:
            return server.create_token_response()

        return app


@contextmanager
def running(port: int) -> Iterator[LocalAuthorizationServer]:
    """The authorization server on 127.0.0.1:`port` for the block's duration."""
    # Authlib refuses plain http unless told otherwise; this server only ever listens on loopback.
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    owner = LocalAuthorizationServer(port)
    http = make_server("127.0.0.1", port, owner.app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, name="local-authorization-server", daemon=True)
    thread.start()
    try:
        yield owner
    finally:
        http.shutdown()
        thread.join(timeout=5)

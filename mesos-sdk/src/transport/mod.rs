//! HTTP transport: reqwest client, authentication, TLS, API errors by status code.

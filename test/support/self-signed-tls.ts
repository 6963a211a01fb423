// A self-signed certificate for 127.0.0.1 and localhost (valid until 2126), for tests of
// receivers that present one: hookd must refuse it. Made with: openssl req -x509 -newkey ec
// -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500 -subj /CN=localhost
// -addext subjectAltName=IP:127.0.0.1,DNS:localhost
export const SELF_SIGNED_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQghpdWFRZKRdaV71hZ
lAOv3JHT3r34zugmf6oMgkIz/X2hRANCAASyg/Ym751xps5X5iXuMSpDCYyEd4K/
VG9S/LO6e2S2njiFug9rC71gcDqLY3cEPdJIwWhJ+vMZue/TFLQk4aT1
-----END PRIVATE KEY-----
`;

export const SELF_SIGNED_CERT = `-----BEGIN CERTIFICATE-----
MIIBnDCCAUGgAwIBAgIUe+eZbgmZ7DhECk4lXBM9OCA2zt8wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyOTIxNTYyNFoYDzIxMjYxMTA1
MjE1NjI0WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASyg/Ym751xps5X5iXuMSpDCYyEd4K/VG9S/LO6e2S2njiFug9rC71g
cDqLY3cEPdJIwWhJ+vMZue/TFLQk4aT1o28wbTAdBgNVHQ4EFgQU+wsQZELzkkqy
tt1lC2a/ywwwTGAwHwYDVR0jBBgwFoAU+wsQZELzkkqytt1lC2a/ywwwTGAwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
zj0EAwIDSQAwRgIhAJfP0o3DLuAdx9dQ+ntXxFRkuM7Rn/TUwT+8VEfAsR57AiEA
gFtjvrR9RrVmCaOUpQxemJDVLQMs4U670Dv0LBa6rpc=
-----END CERTIFICATE-----
`;

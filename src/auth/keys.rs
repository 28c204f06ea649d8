//! Ed25519 (EdDSA) signing keys for access tokens.
//!
//! Production sets `SOLEUS_JWT_PRIVATE_KEY_FILE` to a PKCS#8 PEM file. When it is not set, the
//! server creates `<data dir>/jwt-ed25519.pem` on first start (mode 0600) and keeps using it.

use std::path::Path;

use anyhow::{Context as _, anyhow};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, spki::der::pem::LineEnding};
use jsonwebtoken::{DecodingKey, EncodingKey};
use sha2::{Digest as _, Sha256};

/// The current signing key, ready for jsonwebtoken.
#[derive(Clone)]
pub struct SigningKeys {
    /// Key id: the RFC 7638 JWK thumbprint of the public key.
    pub kid: String,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    /// The public key, base64url (the JWK `x` member).
    pub public_x: String,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKeys {
    /// Loads the key at `path`; when `create_if_missing` and the file does not exist, generates one.
    pub fn load_or_create(path: &Path, create_if_missing: bool) -> anyhow::Result<Self> {
        if !path.exists() {
            if !create_if_missing {
                return Err(anyhow!(
                    "SOLEUS_JWT_PRIVATE_KEY_FILE: {} does not exist",
                    path.display()
                ));
            }
            create_key_file(path)?;
            tracing::warn!(
                path = %path.display(),
                "no signing key configured: generated a new Ed25519 key; set SOLEUS_JWT_PRIVATE_KEY_FILE in production"
            );
        }
        #[cfg(unix)]
        if let Ok(meta) = std::fs::metadata(path) {
            use std::os::unix::fs::PermissionsExt as _;
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{:o}", meta.permissions().mode() & 0o777),
                    "the signing key is readable by other users: chmod 600 it"
                );
            }
        }
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("SOLEUS_JWT_PRIVATE_KEY_FILE: cannot read {}", path.display()))?;
        Self::from_pem(&pem).with_context(|| {
            format!(
                "SOLEUS_JWT_PRIVATE_KEY_FILE: {} is not a PKCS#8 Ed25519 private key",
                path.display()
            )
        })
    }

    pub fn from_pem(pem: &str) -> anyhow::Result<Self> {
        let signing = SigningKey::from_pkcs8_pem(pem).map_err(|e| anyhow!("{e}"))?;
        let public_x = URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes());
        Ok(Self {
            kid: thumbprint(&public_x),
            encoding: EncodingKey::from_ed_pem(pem.as_bytes())?,
            decoding: DecodingKey::from_ed_components(&public_x)?,
            public_x,
        })
    }
}

/// A verification-only key (a previous signing key kept while its tokens expire).
#[derive(Clone)]
pub struct VerifyingKey {
    pub kid: String,
    pub decoding: DecodingKey,
    pub public_x: String,
}

impl VerifyingKey {
    /// Reads a PEM file holding either the old private key or its public key.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        use ed25519_dalek::pkcs8::DecodePublicKey as _;
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("SOLEUS_JWT_PREVIOUS_KEY_FILE: cannot read {}", path.display()))?;
        let public = match SigningKey::from_pkcs8_pem(&pem) {
            Ok(signing) => signing.verifying_key(),
            Err(_) => ed25519_dalek::VerifyingKey::from_public_key_pem(&pem).map_err(|_| {
                anyhow!(
                    "SOLEUS_JWT_PREVIOUS_KEY_FILE: {} is not an Ed25519 key in PEM",
                    path.display()
                )
            })?,
        };
        let public_x = URL_SAFE_NO_PAD.encode(public.as_bytes());
        Ok(Self {
            kid: thumbprint(&public_x),
            decoding: DecodingKey::from_ed_components(&public_x)?,
            public_x,
        })
    }
}

/// The keys in use: the current signing key and, during a rotation, the previous one.
#[derive(Clone)]
pub struct KeySet {
    pub current: SigningKeys,
    pub previous: Option<VerifyingKey>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("current", &self.current.kid)
            .field("previous", &self.previous.as_ref().map(|k| &k.kid))
            .finish()
    }
}

/// One entry of `/.well-known/jwks.json` (RFC 7517, OKP keys per RFC 8037).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Jwk {
    #[schema(example = "OKP")]
    pub kty: &'static str,
    #[schema(example = "Ed25519")]
    pub crv: &'static str,
    /// The public key, base64url.
    pub x: String,
    pub kid: String,
    #[schema(example = "EdDSA")]
    pub alg: &'static str,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    pub use_: &'static str,
}

impl KeySet {
    pub fn decoding_key(&self, kid: &str) -> Option<&DecodingKey> {
        if kid == self.current.kid {
            return Some(&self.current.decoding);
        }
        self.previous
            .as_ref()
            .filter(|p| p.kid == kid)
            .map(|p| &p.decoding)
    }

    /// The public keys, current first.
    pub fn jwks(&self) -> Vec<Jwk> {
        let jwk = |kid: &str, x: &str| Jwk {
            kty: "OKP",
            crv: "Ed25519",
            x: x.to_owned(),
            kid: kid.to_owned(),
            alg: "EdDSA",
            use_: "sig",
        };
        let mut keys = vec![jwk(&self.current.kid, &self.current.public_x)];
        keys.extend(self.previous.iter().map(|p| jwk(&p.kid, &p.public_x)));
        keys
    }
}

/// RFC 7638 thumbprint of an OKP/Ed25519 public key.
fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

fn create_key_file(path: &Path) -> anyhow::Result<()> {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    // PKCS#8 v1 (no embedded public key): the form OpenSSL 3.0 and Python `cryptography` read,
    // so rotation tooling can handle the file.
    let pem = ed25519_dalek::pkcs8::KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    }
    .to_pkcs8_pem(LineEnding::LF)
    .map_err(|e| anyhow!("cannot encode the generated key: {e}"))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::db::create_private_dir(dir)
            .with_context(|| format!("SOLEUS_DATA_DIR: cannot create {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("SOLEUS_DATA_DIR: cannot write {}", path.display()))?;
    std::io::Write::write_all(&mut file, pem.as_bytes())
        .with_context(|| format!("SOLEUS_DATA_DIR: cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_kept_and_signs_tokens() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("keys/jwt.pem");
        let first = SigningKeys::load_or_create(&path, true)?;
        let second = SigningKeys::load_or_create(&path, true)?;
        assert_eq!(first.kid, second.kid, "the key must survive a restart");

        // Also proves a crypto backend is compiled in: jsonwebtoken panics at run time otherwise.
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(first.kid.clone());
        let claims = serde_json::json!({"sub": "u1", "exp": 4_102_444_800_u64});
        let token = jsonwebtoken::encode(&header, &claims, &first.encoding)?;
        let validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
        let data = jsonwebtoken::decode::<serde_json::Value>(&token, &second.decoding, &validation)?;
        assert_eq!(data.claims["sub"], "u1");
        Ok(())
    }

    /// Rotation tooling reads the generated key: OpenSSL 3 refuses PKCS#8 v2 Ed25519 keys.
    #[test]
    #[cfg(unix)]
    fn the_generated_key_is_private_and_openssl_reads_it() -> anyhow::Result<()> {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("data/jwt.pem");
        SigningKeys::load_or_create(&path, true)?;
        assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
        assert_eq!(
            std::fs::metadata(dir.path().join("data"))?.permissions().mode() & 0o777,
            0o700
        );
        let Ok(out) = std::process::Command::new("openssl")
            .args(["pkey", "-noout", "-text", "-in"])
            .arg(&path)
            .output()
        else {
            return Ok(()); // no openssl on this machine
        };
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("ED25519"));
        Ok(())
    }

    #[test]
    fn a_configured_but_missing_key_is_an_error_naming_the_variable() {
        let err = SigningKeys::load_or_create(Path::new("/nonexistent/k.pem"), false)
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(err.contains("SOLEUS_JWT_PRIVATE_KEY_FILE"), "{err}");
    }

    #[test]
    fn garbage_is_not_a_key() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("k.pem");
        std::fs::write(&path, "not a key")?;
        let err = SigningKeys::load_or_create(&path, true)
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(err.contains("SOLEUS_JWT_PRIVATE_KEY_FILE"), "{err}");
        Ok(())
    }
}

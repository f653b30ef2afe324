//! The OCI image of gatewasm.wasm that Istio's WasmPlugin pulls, built without docker.
//!
//! The image has one `application/vnd.oci.image.layer.v1.tar+gzip` layer holding `plugin.wasm`
//! (the "OCI compat" format of Istio's image fetcher, reference §5a) and a minimal image config.
//! It is written as an OCI image layout folder (`oci-layout`, `index.json`, `blobs/sha256/...`)
//! that `oras cp --from-oci-layout`, `skopeo copy oci:` and `crane push` read, and as a tarball of
//! that folder (`skopeo copy oci-archive:`). Everything is deterministic: tar entries have mtime
//! 0, uid and gid 0 and fixed modes, the gzip header has mtime 0 and no file name, and JSON
//! objects are written with sorted keys, so the same module always gives the same digests.
//! Pushing is left to those tools.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

/// Media type of the image index (`index.json`).
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// Media type of the image manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of the image config.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// Media type of the one layer: a gzipped tar holding `plugin.wasm`.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// The file inside the layer that Istio's fetcher looks for.
pub const LAYER_FILE: &str = "plugin.wasm";
/// The annotation OCI layout tools read the tag from.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// One content-addressed blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob {
    /// Its media type.
    pub media_type: &'static str,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

impl Blob {
    fn new(media_type: &'static str, bytes: Vec<u8>) -> Self {
        Self { media_type, bytes }
    }

    /// `sha256:<hex>`.
    pub fn digest(&self) -> String {
        format!("sha256:{}", sha256_hex(&self.bytes))
    }

    /// An OCI descriptor of this blob.
    fn descriptor(&self) -> Json {
        json!({
            "mediaType": self.media_type,
            "digest": self.digest(),
            "size": self.bytes.len(),
        })
    }
}

/// A built image: its three blobs and the index that names the manifest by tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// The image config.
    pub config: Blob,
    /// The layer (tar.gz with `plugin.wasm`).
    pub layer: Blob,
    /// The image manifest.
    pub manifest: Blob,
    /// `index.json`.
    pub index: Vec<u8>,
}

/// Builds the image of a module.
///
/// # Errors
///
/// When the bytes are not a WebAssembly module, or the tag is empty.
pub fn image(wasm: &[u8], tag: &str) -> Result<Image> {
    if !wasm.starts_with(b"\0asm") {
        bail!("not a WebAssembly module (it does not start with \\0asm)");
    }
    if tag.is_empty() || tag.len() > 128 || tag.contains(['/', ':', '@', ' ']) {
        bail!("tag {tag:?} is not a valid image tag");
    }
    let tar = layer_tar(wasm)?;
    let diff_id = format!("sha256:{}", sha256_hex(&tar));
    let layer = Blob::new(LAYER_MEDIA_TYPE, gzip(&tar)?);
    let config = Blob::new(
        CONFIG_MEDIA_TYPE,
        serde_json::to_vec(&json!({
            "architecture": "wasm",
            "os": "wasip1",
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }))?,
    );
    let manifest = Blob::new(
        MANIFEST_MEDIA_TYPE,
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": config.descriptor(),
            "layers": [layer.descriptor()],
        }))?,
    );
    let mut manifest_descriptor = manifest.descriptor();
    manifest_descriptor["annotations"] = json!({ REF_NAME_ANNOTATION: tag });
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": INDEX_MEDIA_TYPE,
        "manifests": [manifest_descriptor],
    }))?;
    Ok(Image {
        config,
        layer,
        manifest,
        index,
    })
}

impl Image {
    /// The manifest digest as 64 hex characters: what a WasmPlugin's `sha256` pins.
    pub fn manifest_sha256(&self) -> String {
        sha256_hex(&self.manifest.bytes)
    }

    /// Every file of the layout folder, by relative path, in name order.
    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        files.insert(
            "oci-layout".to_owned(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        );
        files.insert("index.json".to_owned(), self.index.clone());
        for blob in [&self.config, &self.layer, &self.manifest] {
            files.insert(
                format!("blobs/sha256/{}", sha256_hex(&blob.bytes)),
                blob.bytes.clone(),
            );
        }
        files
    }

    /// Writes the layout folder. An earlier layout there is replaced; any other non-empty
    /// folder is left alone and refused.
    ///
    /// # Errors
    ///
    /// When the folder holds something else, or cannot be written.
    pub fn write_layout(&self, dir: &Path) -> Result<()> {
        let occupied = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
        if occupied {
            if !dir.join("oci-layout").is_file() {
                bail!(
                    "{} exists and is not an OCI image layout; choose an empty or new folder",
                    dir.display()
                );
            }
            for stale in ["blobs", "index.json", "oci-layout"] {
                let path = dir.join(stale);
                let removed = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                if let Err(err) = removed {
                    if err.kind() != std::io::ErrorKind::NotFound {
                        return Err(err)
                            .with_context(|| format!("failed to remove {}", path.display()));
                    }
                }
            }
        }
        for (name, bytes) in self.files() {
            let path = dir.join(&name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("failed to create {}", parent.display()))?;
            }
            std::fs::write(&path, bytes)
                .with_context(|| format!("failed to write {}", path.display()))?;
        }
        Ok(())
    }

    /// The layout folder as one tar (an "OCI archive"), deterministic like the layer.
    ///
    /// # Errors
    ///
    /// Never in practice: the tar is built in memory.
    pub fn tarball(&self) -> Result<Vec<u8>> {
        let mut builder = tar::Builder::new(Vec::new());
        for name in ["oci-layout", "index.json"] {
            if let Some(bytes) = self.files().get(name) {
                append(&mut builder, name, bytes)?;
            }
        }
        append_dir(&mut builder, "blobs/")?;
        append_dir(&mut builder, "blobs/sha256/")?;
        for (name, bytes) in self.files() {
            if name.starts_with("blobs/") {
                append(&mut builder, &name, &bytes)?;
            }
        }
        Ok(builder.into_inner()?)
    }
}

/// Reads the manifest digest (64 hex characters) of the one image in a layout folder written
/// by [`Image::write_layout`], after checking that the manifest blob has that digest.
///
/// # Errors
///
/// When the folder is not such a layout, or its manifest blob does not match its digest.
pub fn layout_manifest_sha256(dir: &Path) -> Result<String> {
    let index_path = dir.join("index.json");
    let index: Json = serde_json::from_slice(
        &std::fs::read(&index_path)
            .with_context(|| format!("failed to read {}", index_path.display()))?,
    )
    .with_context(|| format!("{} is not JSON", index_path.display()))?;
    let manifests = index
        .get("manifests")
        .and_then(Json::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let [manifest] = manifests else {
        bail!(
            "{} must name exactly one image manifest (it names {})",
            index_path.display(),
            manifests.len()
        );
    };
    let digest = manifest
        .get("digest")
        .and_then(Json::as_str)
        .unwrap_or_default();
    let Some(hex) = digest.strip_prefix("sha256:") else {
        bail!(
            "{}: manifest digest {digest:?} is not sha256",
            index_path.display()
        );
    };
    let blob_path = dir.join("blobs/sha256").join(hex);
    let blob = std::fs::read(&blob_path)
        .with_context(|| format!("failed to read {}", blob_path.display()))?;
    if sha256_hex(&blob) != hex {
        bail!("{} does not match its digest", blob_path.display());
    }
    Ok(hex.to_owned())
}

/// A tar with `plugin.wasm` alone.
fn layer_tar(wasm: &[u8]) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    append(&mut builder, LAYER_FILE, wasm)?;
    Ok(builder.into_inner()?)
}

fn append(builder: &mut tar::Builder<Vec<u8>>, name: &str, bytes: &[u8]) -> Result<()> {
    let mut header = header(tar::EntryType::Regular, 0o644);
    header.set_size(u64::try_from(bytes.len())?);
    builder.append_data(&mut header, name, bytes)?;
    Ok(())
}

fn append_dir(builder: &mut tar::Builder<Vec<u8>>, name: &str) -> Result<()> {
    let mut header = header(tar::EntryType::Directory, 0o755);
    header.set_size(0);
    builder.append_data(&mut header, name, std::io::empty())?;
    Ok(())
}

/// A ustar header with nothing that varies between machines or runs.
fn header(kind: tar::EntryType, mode: u32) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header
}

/// gzip with a fixed header: mtime 0, no file name, best compression.
fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{image, layout_manifest_sha256, sha256_hex};

    const MODULE: &[u8] = b"\0asm\x01\0\0\0";

    #[test]
    fn the_same_module_gives_the_same_image() {
        let a = image(MODULE, "0.1.0").unwrap();
        let b = image(MODULE, "0.1.0").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.tarball().unwrap(), b.tarball().unwrap());
        assert_ne!(
            image(b"\0asm\x01\0\0\0\0", "0.1.0").unwrap().manifest,
            a.manifest
        );
    }

    #[test]
    fn only_modules_and_tags_are_packaged() {
        assert!(image(b"MZ", "x").is_err());
        assert!(image(MODULE, "a/b").is_err());
        assert!(image(MODULE, "").is_err());
    }

    #[test]
    fn a_written_layout_gives_back_its_digest_and_can_be_rewritten() {
        let dir = std::env::temp_dir().join(format!("gatewasm-oci-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = image(MODULE, "one").unwrap();
        first.write_layout(&dir).unwrap();
        let second = image(b"\0asm\x01\0\0\0\0", "two").unwrap();
        second.write_layout(&dir).unwrap();
        assert_eq!(
            layout_manifest_sha256(&dir).unwrap(),
            second.manifest_sha256()
        );
        let blobs = std::fs::read_dir(dir.join("blobs/sha256")).unwrap().count();
        assert_eq!(blobs, 3, "the first image's blobs are gone");
        std::fs::write(
            dir.join("blobs/sha256").join(second.manifest_sha256()),
            b"{}",
        )
        .unwrap();
        assert!(layout_manifest_sha256(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
        let other = dir.with_extension("other");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("x"), b"").unwrap();
        assert!(first.write_layout(&other).is_err());
        std::fs::remove_dir_all(&other).unwrap();
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}

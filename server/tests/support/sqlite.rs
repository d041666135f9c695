//! Edits of a SQLite log behind the server's back, as someone with write access to the
//! file would make them.

use rusqlite::Connection;

/// Relinks every record with plain SHA-256 links (`consent_core::chain_link`), as a log from
/// before the keyed chain was linked: what someone without the key can compute. Returns how
/// many records there are.
///
/// # Panics
/// If the log cannot be read or written.
pub fn relink_with_plain_hashes(conn: &Connection) -> usize {
    let rows: Vec<(i64, Vec<u8>)> = conn
        .prepare("SELECT seq, digest FROM decisions ORDER BY seq")
        .and_then(|mut st| {
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()
        })
        .expect("read the digests");
    let n = rows.len();
    let mut link = consent_core::Digest::ZERO;
    for (seq, digest) in rows {
        let digest: [u8; 32] = digest.try_into().expect("32 bytes");
        link = consent_core::chain_link(&link, &consent_core::Digest::from_bytes(digest));
        conn.execute(
            "UPDATE decisions SET link = ?1 WHERE seq = ?2",
            rusqlite::params![&link.as_bytes()[..], seq],
        )
        .expect("relink");
    }
    n
}

//! The client session against the client side of mtproxy-core: the
//! client's header, ciphers and framing.

use super::*;
use mtproxy_core::net::obfs2::{self, ClientHeader};

/// A client and the proxy's session for it.
fn pair(tag: u32) -> (ClientHeader, ClientSession) {
    let client = obfs2::build_client_header(&[0x42; HEADER_LEN], None, tag, 2).unwrap();
    let header = ServerHeader {
        secret_index: -1,
        tag,
        dc: 2,
        read: client.encrypt,
        write: client.decrypt,
    };
    (client, ClientSession::new(&header, None).unwrap())
}

/// What the client sends: `packets` framed, encrypted after its header.
fn client_bytes(client: &ClientHeader, mode: i32, packets: &[&[u8]]) -> Vec<u8> {
    let mut enc = ctr(&client.encrypt).unwrap();
    crypt(&mut enc, &mut [0u8; HEADER_LEN]);
    let mut wire = Vec::new();
    for packet in packets {
        let mut frame = vec![0u8; framing::MAX_HEADER_LEN + packet.len() + 16];
        let n = framing::encode_packet(FROM_CLIENT, mode, false, packet, &[], &mut frame).unwrap();
        wire.extend_from_slice(&frame[..n]);
    }
    crypt(&mut enc, &mut wire);
    wire
}

/// The events of `wire` fed in pieces of `piece` bytes, packets as bytes.
fn events(session: &mut ClientSession, wire: &[u8], piece: usize) -> Vec<(ClientEvent, Vec<u8>)> {
    let mut packet = vec![0u8; framing::MAX_PACKET_LEN + 16];
    let mut payload = Vec::new();
    let mut out = Vec::new();
    for chunk in wire.chunks(piece) {
        let mut data = chunk.to_vec();
        let mut received = session.receive(&mut data, &mut payload);
        while let Some(event) = session.poll_event(&mut received, &mut packet) {
            let bytes = match event {
                ClientEvent::Packet { len, .. } => packet[..len].to_vec(),
                ClientEvent::Invalid => Vec::new(),
            };
            out.push((event, bytes));
        }
    }
    out
}

fn packets() -> Vec<Vec<u8>> {
    vec![vec![1; 16], (0..=255).collect(), vec![7; 4000]]
}

#[test]
fn the_clients_packets_come_out_whole_and_in_order() {
    for (tag, mode) in [
        (obfs2::TAG_ABRIDGED, framing::MODE_ABRIDGED),
        (obfs2::TAG_INTERMEDIATE, framing::MODE_INTERMEDIATE),
        (obfs2::TAG_PADDED, framing::MODE_PADDED),
    ] {
        let (client, mut session) = pair(tag);
        let packets = packets();
        let refs: Vec<&[u8]> = packets.iter().map(Vec::as_slice).collect();
        let wire = client_bytes(&client, mode, &refs);
        let got = events(&mut session, &wire, wire.len());
        let want: Vec<(ClientEvent, Vec<u8>)> = packets
            .iter()
            .map(|p| {
                let event = ClientEvent::Packet {
                    len: p.len(),
                    quick_ack: false,
                };
                (event, p.clone())
            })
            .collect();
        assert_eq!(got, want, "mode {mode}");
        assert_eq!(session.dc(), 2);
    }
}

#[test]
fn bytes_split_anywhere_give_the_same_events() {
    let (client, mut whole) = pair(obfs2::TAG_INTERMEDIATE);
    let packets = packets();
    let refs: Vec<&[u8]> = packets.iter().map(Vec::as_slice).collect();
    let wire = client_bytes(&client, framing::MODE_INTERMEDIATE, &refs);
    let want = events(&mut whole, &wire, wire.len());
    for piece in [1, 3, 64, 1000] {
        let (_, mut split) = pair(obfs2::TAG_INTERMEDIATE);
        assert_eq!(events(&mut split, &wire, piece), want, "pieces of {piece}");
    }
}

#[test]
fn a_corrupt_frame_is_invalid_after_the_packets_before_it() {
    let (client, mut session) = pair(obfs2::TAG_INTERMEDIATE);
    let mut enc = ctr(&client.encrypt).unwrap();
    crypt(&mut enc, &mut [0u8; HEADER_LEN]);
    let mut wire = vec![0u8; 64];
    let n = framing::encode_packet(
        FROM_CLIENT,
        framing::MODE_INTERMEDIATE,
        false,
        &[5; 8],
        &[],
        &mut wire,
    )
    .unwrap();
    wire.truncate(n);
    // A length no client frame may have.
    wire.extend_from_slice(&0x7fff_fff0u32.to_le_bytes());
    wire.extend_from_slice(&[9; 8]);
    crypt(&mut enc, &mut wire);
    let got = events(&mut session, &wire, wire.len());
    let packet = ClientEvent::Packet {
        len: 8,
        quick_ack: false,
    };
    assert_eq!(
        got,
        vec![(packet, vec![5; 8]), (ClientEvent::Invalid, Vec::new())]
    );
    // The fault is sticky: later bytes mean nothing more.
    assert_eq!(
        events(&mut session, &[1, 2, 3, 4], 4),
        vec![(ClientEvent::Invalid, Vec::new())]
    );
}

#[test]
fn answers_and_quick_acks_decode_on_the_clients_side() {
    for (tag, mode) in [
        (obfs2::TAG_ABRIDGED, framing::MODE_ABRIDGED),
        (obfs2::TAG_INTERMEDIATE, framing::MODE_INTERMEDIATE),
        (obfs2::TAG_PADDED, framing::MODE_PADDED),
    ] {
        let (client, mut session) = pair(tag);
        let (mut rng, mut scratch, mut out) = (Rng::new(1, 0), Vec::new(), OutQueue::default());
        let answer: Vec<u8> = (0..=255).cycle().take(1024).collect();
        session
            .queue_answer(&answer, &mut rng, &mut scratch, &mut out)
            .unwrap();
        session.queue_quick_ack(0x1234_5678, &mut rng, &mut scratch, &mut out);
        let mut wire = Vec::new();
        out.flush_to(&mut wire).unwrap();
        let mut dec = ctr(&client.decrypt).unwrap();
        crypt(&mut dec, &mut wire);
        let mut decoder = FrameDecoder::new(mode, FROM_PROXY).unwrap();
        assert_eq!(decoder.feed(&wire), Ok(wire.len()));
        let mut packet = vec![0u8; 4096];
        let first = decoder.next_packet(&mut packet).unwrap().unwrap();
        assert_eq!(&packet[..first.length], &answer[..], "mode {mode}");
        // The quick ack follows the answer (padded mode draws its form).
        let ack = &wire[wire.len() - 4..];
        match mode {
            framing::MODE_ABRIDGED => assert_eq!(ack, 0x1234_5678u32.to_be_bytes()),
            framing::MODE_INTERMEDIATE => assert_eq!(ack, 0x1234_5678u32.to_le_bytes()),
            _ => assert!(decoder.buffered() >= 4),
        }
    }
}

#[test]
fn an_answer_no_frame_can_carry_is_refused_and_nothing_is_queued() {
    let (_, mut session) = pair(obfs2::TAG_INTERMEDIATE);
    let (mut rng, mut scratch, mut out) = (Rng::new(1, 0), Vec::new(), OutQueue::default());
    let huge = vec![0u8; framing::MAX_ANSWER_LEN + 4];
    assert!(session
        .queue_answer(&huge, &mut rng, &mut scratch, &mut out)
        .is_err());
    assert!(out.is_empty());
}

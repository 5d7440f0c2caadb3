//! `tokio_util::codec` implementations, for `FramedRead` and `FramedWrite`.

use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::decoder::RecordIoDecoder;
use super::encoder::{RecordIoEncoder, encode_record};
use super::error::RecordStreamError;

impl Decoder for RecordIoDecoder {
    type Item = Bytes;
    type Error = RecordStreamError<std::io::Error>;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Self::Error> {
        if !src.is_empty() {
            let chunk = src.split().freeze();
            self.feed_bytes(chunk);
        }
        Ok(self.decode_next()?)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Self::Error> {
        match self.decode(src)? {
            Some(record) => Ok(Some(record)),
            None => {
                self.finish()?;
                Ok(None)
            }
        }
    }
}

impl Encoder<Bytes> for RecordIoEncoder {
    type Error = std::io::Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), Self::Error> {
        encode_record(&item, dst);
        Ok(())
    }
}

impl Encoder<Vec<u8>> for RecordIoEncoder {
    type Error = std::io::Error;

    fn encode(&mut self, item: Vec<u8>, dst: &mut BytesMut) -> Result<(), Self::Error> {
        encode_record(&item, dst);
        Ok(())
    }
}

impl Encoder<&[u8]> for RecordIoEncoder {
    type Error = std::io::Error;

    fn encode(&mut self, item: &[u8], dst: &mut BytesMut) -> Result<(), Self::Error> {
        encode_record(item, dst);
        Ok(())
    }
}

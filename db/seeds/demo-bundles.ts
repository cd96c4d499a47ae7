import shenyang from '../../bundles/signed/210100-v2.bundle.json'
import shanghai from '../../bundles/signed/310000-v2.bundle.json'
import suzhou from '../../bundles/signed/320500-v2.bundle.json'
import quzhou from '../../bundles/signed/330800-v2.bundle.json'
import yunnan from '../../bundles/signed/539900-v2.bundle.json'
import tibet from '../../bundles/signed/540000-v2.bundle.json'
import shenyangV1 from '../../bundles/signed/210100-v1.bundle.json'
import shanghaiV1 from '../../bundles/signed/310000-v1.bundle.json'
import suzhouV1 from '../../bundles/signed/320500-v1.bundle.json'
import quzhouV1 from '../../bundles/signed/330800-v1.bundle.json'
import yunnanV1 from '../../bundles/signed/539900-v1.bundle.json'
import tibetV1 from '../../bundles/signed/540000-v1.bundle.json'

/**
 * The six demo rule bundles, signed with the DEMO key (bundles/keys), as envelope texts. They go
 * through the same verification as any bundle from the centre; the signature covers the payload
 * text inside, so re-serialising the envelope changes nothing that is checked.
 */
export const DEMO_BUNDLE_ENVELOPES: readonly string[] = [
  yunnan,
  tibet,
  quzhou,
  suzhou,
  shenyang,
  shanghai
].map((envelope) => JSON.stringify(envelope))

/**
 * Their first versions, in format 1 (no after-sale fields): the reference centre holds them too,
 * and gives them to terminals of protocol 1, which cannot read format 2.
 */
export const DEMO_FORMAT_1_ENVELOPES: readonly string[] = [
  yunnanV1,
  tibetV1,
  quzhouV1,
  suzhouV1,
  shenyangV1,
  shanghaiV1
].map((envelope) => JSON.stringify(envelope))

/** The region each demo bundle is for, in the same order (a first start repairs a missing region). */
export const DEMO_BUNDLE_REGIONS: readonly string[] = [
  '539900',
  '540000',
  '330800',
  '320500',
  '210100',
  '310000'
]

// Preloaded (node --import) into a spawned server to give it a clock APPTOKEN_TEST_CLOCK_SKEW_MS off the
// host's, as an instance on another machine without NTP would have. Only Date moves; timers do not.
const skew = Number(process.env.APPTOKEN_TEST_CLOCK_SKEW_MS ?? 0);
const RealDate = Date;
class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + skew);
    else super(...args);
  }
  static now() {
    return RealDate.now() + skew;
  }
}
globalThis.Date = SkewedDate;

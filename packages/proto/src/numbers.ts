// 64-bit fields decode to plain numbers everywhere in Ballast (offsets, terms, indexes all stay
// far below 2^53). protobufjs picks Long when the `long` package is present, whatever pbjs's
// --force-number says, so turn Long off before the generated code loads. index.ts imports this
// module first for that reason.
import $protobuf from 'protobufjs/minimal.js';

$protobuf.util.Long = undefined as unknown as typeof $protobuf.util.Long;
$protobuf.configure();

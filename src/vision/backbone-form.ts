/**
 * How the int8 backbone file is run: as is (ORT int8 kernels, whose rounding
 * differs by CPU), or rewritten in memory into float ops (src/vision/dequantize.ts:
 * the same weights, CPU-independent features). A head is trained on one form
 * and only accepts features of that form. Kept apart from backbone.ts so the
 * head module (imported by the API) never loads ONNX Runtime.
 */
export type BackboneForm = 'int8' | 'float';
export const BACKBONE_FORMS: readonly BackboneForm[] = ['float', 'int8'];
/** Form `maskwatch train` uses unless told (--backbone): float features are the same on every CPU. */
export const DEFAULT_BACKBONE_FORM: BackboneForm = 'float';
/** Form of heads written before the field existed. */
export const LEGACY_BACKBONE_FORM: BackboneForm = 'int8';

export function parseBackboneForm(v: string, source = 'backbone form'): BackboneForm {
  if (!(BACKBONE_FORMS as readonly string[]).includes(v)) throw new Error(`${source} must be one of ${BACKBONE_FORMS.join(', ')}, got "${v}"`);
  return v as BackboneForm;
}

// Node attributes: conversion from AttributeProto and typed getters. A getter names the node, op and
// attribute when the attribute is missing or has the wrong type, because that is what a user can fix.

import { AttributeProto_AttributeType as A, type AttributeProto } from 'onnx-buf';
import { GradsightError } from '../errors.ts';
import type { AttributeValue, Initializer, Node } from './ir.ts';

const utf8 = new TextDecoder();

/** `tensor` builds an Initializer for TENSOR attributes (supplied by from-proto to avoid a cycle). */
export function attributeValue(
  a: AttributeProto,
  tensor: (a: AttributeProto) => Initializer,
): AttributeValue {
  switch (attributeType(a)) {
    case A.INT:
      return { kind: 'int', value: Number(a.i) };
    case A.INTS:
      return { kind: 'ints', value: a.ints.map(Number) };
    case A.FLOAT:
      return { kind: 'float', value: a.f };
    case A.FLOATS:
      return { kind: 'floats', value: [...a.floats] };
    case A.STRING:
      return { kind: 'string', value: utf8.decode(a.s) };
    case A.STRINGS:
      return { kind: 'strings', value: a.strings.map((s) => utf8.decode(s)) };
    case A.TENSOR:
      // A TENSOR attribute without its tensor: the getters report it with the node's name.
      return a.t ? { kind: 'tensor', value: tensor(a) } : { kind: 'other', value: undefined };
    default:
      return { kind: 'other', value: undefined };
  }
}

// Very old exporters leave `type` unset; fall back to whichever field is populated.
function attributeType(a: AttributeProto): A {
  if (a.type !== A.UNDEFINED) return a.type;
  if (a.ints.length) return A.INTS;
  if (a.floats.length) return A.FLOATS;
  if (a.strings.length) return A.STRINGS;
  if (a.t) return A.TENSOR;
  if (a.s.length) return A.STRING;
  if (a.f !== 0) return A.FLOAT;
  return A.INT;
}

type Kind = AttributeValue['kind'];
type ValueOf<K extends Kind> = Extract<AttributeValue, { kind: K }>['value'];

function get<K extends Kind>(node: Node, name: string, kind: K, dflt: ValueOf<K> | undefined): ValueOf<K> {
  const attr = node.attributes.get(name);
  if (!attr) {
    if (dflt !== undefined) return dflt as unknown as ValueOf<K>;
    throw new GradsightError(
      'model-invalid',
      `node '${node.name}' (${node.opType}) lacks the required attribute '${name}'`,
      {
        hint: 'the model does not follow the ONNX spec for this op; re-export it',
        details: { node: node.name, op: node.opType, attribute: name },
      },
    );
  }
  // An int where a float is expected (or the reverse) is harmless; exporters mix them up.
  const v = attr.value;
  const ok =
    v.kind === kind || (kind === 'float' && v.kind === 'int') || (kind === 'floats' && v.kind === 'ints');
  if (ok) return v.value as unknown as ValueOf<K>;
  throw new GradsightError(
    'model-invalid',
    `attribute '${name}' of node '${node.name}' (${node.opType}) is ${v.kind}, expected ${kind}`,
    {
      hint: 'the model does not follow the ONNX spec for this op; re-export it',
      details: { node: node.name, op: node.opType, attribute: name },
    },
  );
}

export const hasAttr = (node: Node, name: string): boolean => node.attributes.has(name);
export const getInt = (node: Node, name: string, dflt?: number): number => get(node, name, 'int', dflt);
export const getInts = (node: Node, name: string, dflt?: readonly number[]): readonly number[] =>
  get(node, name, 'ints', dflt);
export const getFloat = (node: Node, name: string, dflt?: number): number => get(node, name, 'float', dflt);
export const getFloats = (node: Node, name: string, dflt?: readonly number[]): readonly number[] =>
  get(node, name, 'floats', dflt);
export const getString = (node: Node, name: string, dflt?: string): string => get(node, name, 'string', dflt);
export const getTensor = (node: Node, name: string): Initializer => get(node, name, 'tensor', undefined);

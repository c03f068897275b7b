/** Who is signed in: the key's shop and kind (GET /v1/me), and the API client bound to that key. */
import { createContext, useContext } from 'react';
import type { Api, Schemas } from './api';

export interface Me {
  shopId: string;
  shopName: string;
  timeZone: string;
  kind: 'shop' | 'agent';
  keyId: string;
  label: string | null;
  agent: { agentId?: string; name?: string } | null;
}

export interface SignedIn {
  me: Me;
  api: Api;
  key: string;
}

export const SessionContext = createContext<SignedIn | null>(null);

export function useSignedIn(): SignedIn {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSignedIn outside a signed-in console');
  return s;
}

export type ShopEvent = Schemas['ShopEvent'];

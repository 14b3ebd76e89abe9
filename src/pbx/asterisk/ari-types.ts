/** The parts of ARI's JSON that callguard reads. Field names are Asterisk's (see the recorded traffic). */
export interface AriCallerId {
  readonly name: string;
  readonly number: string;
}

export interface AriDialplanCep {
  readonly context: string;
  readonly exten: string;
  readonly priority: number;
  readonly app_name?: string;
  readonly app_data?: string;
}

export interface AriChannel {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly caller: AriCallerId;
  readonly connected?: AriCallerId;
  readonly dialplan: AriDialplanCep;
  /** Present only when ari.conf lists `channelvars`; an unset variable is "". */
  readonly channelvars?: Readonly<Record<string, string>>;
}

export interface AriStasisStart {
  readonly type: 'StasisStart';
  readonly timestamp?: string;
  readonly args: readonly string[];
  readonly channel: AriChannel;
  readonly application?: string;
}

export interface AriChannelEvent {
  readonly type:
    | 'StasisEnd'
    | 'ChannelHangupRequest'
    | 'ChannelDestroyed'
    | 'ChannelVarset'
    | 'ChannelStateChange';
  readonly channel: AriChannel;
  readonly cause?: number;
  readonly soft?: boolean;
}

/** Any event off the events WebSocket; only the types above are looked into. */
export type AriEvent =
  | AriStasisStart
  | AriChannelEvent
  | { readonly type: string; readonly channel?: AriChannel };

import * as $protobuf from 'protobufjs';
import Long = require('long');

/** Namespace ballast. */
export namespace ballast {
  /** Namespace dataplane. */
  namespace dataplane {
    /** StatusCode enum. */
    enum StatusCode {
      /** OK value */
      OK = 0,

      /** INVALID value */
      INVALID = 1,

      /** NOT_FOUND value */
      NOT_FOUND = 2,

      /** FENCED value */
      FENCED = 3,

      /** CHECKSUM value */
      CHECKSUM = 4,

      /** IO value */
      IO = 5,

      /** NO_SPACE value */
      NO_SPACE = 6,

      /** UNAUTHENTICATED value */
      UNAUTHENTICATED = 7,

      /** NO_SESSION value */
      NO_SESSION = 8,

      /** OVERLOADED value */
      OVERLOADED = 9,

      /** SHUTTING_DOWN value */
      SHUTTING_DOWN = 10,
    }

    /**
     * Properties of a Status.
     * @deprecated Use ballast.dataplane.Status.$Properties instead.
     */
    interface IStatus extends ballast.dataplane.Status.$Properties {}

    /** Represents a Status. */
    class Status {
      /**
       * Constructs a new Status.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.Status.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** Status code. */
      code: ballast.dataplane.StatusCode;

      /** Status message. */
      message: string;

      /**
       * Creates a new Status instance using the specified properties.
       * @param [properties] Properties to set
       * @returns Status instance
       */
      static create(
        properties: ballast.dataplane.Status.$Shape,
      ): ballast.dataplane.Status & ballast.dataplane.Status.$Shape;
      static create(properties?: ballast.dataplane.Status.$Properties): ballast.dataplane.Status;

      /**
       * Encodes the specified Status message. Does not implicitly {@link ballast.dataplane.Status.verify|verify} messages.
       * @param message Status message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.Status.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a Status message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.Status & ballast.dataplane.Status.$Shape} Status
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.Status & ballast.dataplane.Status.$Shape;

      /**
       * Verifies a Status message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a Status message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns Status
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.Status;

      /**
       * Creates a plain object from a Status message. Also converts values to other types if specified.
       * @param message Status
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.Status,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this Status to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for Status
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace Status {
      /** Properties of a Status. */
      interface $Properties {
        /** Status code */
        code?: ballast.dataplane.StatusCode | null;

        /** Status message */
        message?: string | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a Status. */
      type $Shape = ballast.dataplane.Status.$Properties;
    }

    /**
     * Properties of a ServerHello.
     * @deprecated Use ballast.dataplane.ServerHello.$Properties instead.
     */
    interface IServerHello extends ballast.dataplane.ServerHello.$Properties {}

    /** Represents a ServerHello. */
    class ServerHello {
      /**
       * Constructs a new ServerHello.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.ServerHello.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** ServerHello protocolVersion. */
      protocolVersion: number;

      /** ServerHello clusterId. */
      clusterId: string;

      /** ServerHello nodeId. */
      nodeId: string;

      /** ServerHello nonce. */
      nonce: Uint8Array;

      /**
       * Creates a new ServerHello instance using the specified properties.
       * @param [properties] Properties to set
       * @returns ServerHello instance
       */
      static create(
        properties: ballast.dataplane.ServerHello.$Shape,
      ): ballast.dataplane.ServerHello & ballast.dataplane.ServerHello.$Shape;
      static create(
        properties?: ballast.dataplane.ServerHello.$Properties,
      ): ballast.dataplane.ServerHello;

      /**
       * Encodes the specified ServerHello message. Does not implicitly {@link ballast.dataplane.ServerHello.verify|verify} messages.
       * @param message ServerHello message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.ServerHello.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a ServerHello message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.ServerHello & ballast.dataplane.ServerHello.$Shape} ServerHello
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.ServerHello & ballast.dataplane.ServerHello.$Shape;

      /**
       * Verifies a ServerHello message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a ServerHello message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns ServerHello
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.ServerHello;

      /**
       * Creates a plain object from a ServerHello message. Also converts values to other types if specified.
       * @param message ServerHello
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.ServerHello,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this ServerHello to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for ServerHello
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace ServerHello {
      /** Properties of a ServerHello. */
      interface $Properties {
        /** ServerHello protocolVersion */
        protocolVersion?: number | null;

        /** ServerHello clusterId */
        clusterId?: string | null;

        /** ServerHello nodeId */
        nodeId?: string | null;

        /** ServerHello nonce */
        nonce?: Uint8Array | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a ServerHello. */
      type $Shape = ballast.dataplane.ServerHello.$Properties;
    }

    /**
     * Properties of a ClientHello.
     * @deprecated Use ballast.dataplane.ClientHello.$Properties instead.
     */
    interface IClientHello extends ballast.dataplane.ClientHello.$Properties {}

    /** Represents a ClientHello. */
    class ClientHello {
      /**
       * Constructs a new ClientHello.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.ClientHello.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** ClientHello protocolVersion. */
      protocolVersion: number;

      /** ClientHello clusterId. */
      clusterId: string;

      /** ClientHello clientId. */
      clientId: string;

      /** ClientHello mac. */
      mac: Uint8Array;

      /**
       * Creates a new ClientHello instance using the specified properties.
       * @param [properties] Properties to set
       * @returns ClientHello instance
       */
      static create(
        properties: ballast.dataplane.ClientHello.$Shape,
      ): ballast.dataplane.ClientHello & ballast.dataplane.ClientHello.$Shape;
      static create(
        properties?: ballast.dataplane.ClientHello.$Properties,
      ): ballast.dataplane.ClientHello;

      /**
       * Encodes the specified ClientHello message. Does not implicitly {@link ballast.dataplane.ClientHello.verify|verify} messages.
       * @param message ClientHello message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.ClientHello.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a ClientHello message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.ClientHello & ballast.dataplane.ClientHello.$Shape} ClientHello
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.ClientHello & ballast.dataplane.ClientHello.$Shape;

      /**
       * Verifies a ClientHello message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a ClientHello message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns ClientHello
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.ClientHello;

      /**
       * Creates a plain object from a ClientHello message. Also converts values to other types if specified.
       * @param message ClientHello
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.ClientHello,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this ClientHello to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for ClientHello
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace ClientHello {
      /** Properties of a ClientHello. */
      interface $Properties {
        /** ClientHello protocolVersion */
        protocolVersion?: number | null;

        /** ClientHello clusterId */
        clusterId?: string | null;

        /** ClientHello clientId */
        clientId?: string | null;

        /** ClientHello mac */
        mac?: Uint8Array | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a ClientHello. */
      type $Shape = ballast.dataplane.ClientHello.$Properties;
    }

    /**
     * Properties of a HelloResponse.
     * @deprecated Use ballast.dataplane.HelloResponse.$Properties instead.
     */
    interface IHelloResponse extends ballast.dataplane.HelloResponse.$Properties {}

    /** Represents a HelloResponse. */
    class HelloResponse {
      /**
       * Constructs a new HelloResponse.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.HelloResponse.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** HelloResponse status. */
      status?: ballast.dataplane.Status.$Properties | null;

      /**
       * Creates a new HelloResponse instance using the specified properties.
       * @param [properties] Properties to set
       * @returns HelloResponse instance
       */
      static create(
        properties: ballast.dataplane.HelloResponse.$Shape,
      ): ballast.dataplane.HelloResponse & ballast.dataplane.HelloResponse.$Shape;
      static create(
        properties?: ballast.dataplane.HelloResponse.$Properties,
      ): ballast.dataplane.HelloResponse;

      /**
       * Encodes the specified HelloResponse message. Does not implicitly {@link ballast.dataplane.HelloResponse.verify|verify} messages.
       * @param message HelloResponse message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.HelloResponse.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a HelloResponse message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.HelloResponse & ballast.dataplane.HelloResponse.$Shape} HelloResponse
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.HelloResponse & ballast.dataplane.HelloResponse.$Shape;

      /**
       * Verifies a HelloResponse message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a HelloResponse message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns HelloResponse
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.HelloResponse;

      /**
       * Creates a plain object from a HelloResponse message. Also converts values to other types if specified.
       * @param message HelloResponse
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.HelloResponse,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this HelloResponse to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for HelloResponse
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace HelloResponse {
      /** Properties of a HelloResponse. */
      interface $Properties {
        /** HelloResponse status */
        status?: ballast.dataplane.Status.$Properties | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a HelloResponse. */
      type $Shape = ballast.dataplane.HelloResponse.$Properties;
    }

    /**
     * Properties of an OpenSession.
     * @deprecated Use ballast.dataplane.OpenSession.$Properties instead.
     */
    interface IOpenSession extends ballast.dataplane.OpenSession.$Properties {}

    /** Represents an OpenSession. */
    class OpenSession {
      /**
       * Constructs a new OpenSession.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.OpenSession.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** OpenSession volumeId. */
      volumeId: string;

      /** OpenSession epoch. */
      epoch: number;

      /** OpenSession sizeBytes. */
      sizeBytes: number;

      /** OpenSession chunkSizeBytes. */
      chunkSizeBytes: number;

      /**
       * Creates a new OpenSession instance using the specified properties.
       * @param [properties] Properties to set
       * @returns OpenSession instance
       */
      static create(
        properties: ballast.dataplane.OpenSession.$Shape,
      ): ballast.dataplane.OpenSession & ballast.dataplane.OpenSession.$Shape;
      static create(
        properties?: ballast.dataplane.OpenSession.$Properties,
      ): ballast.dataplane.OpenSession;

      /**
       * Encodes the specified OpenSession message. Does not implicitly {@link ballast.dataplane.OpenSession.verify|verify} messages.
       * @param message OpenSession message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.OpenSession.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes an OpenSession message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.OpenSession & ballast.dataplane.OpenSession.$Shape} OpenSession
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.OpenSession & ballast.dataplane.OpenSession.$Shape;

      /**
       * Verifies an OpenSession message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates an OpenSession message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns OpenSession
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.OpenSession;

      /**
       * Creates a plain object from an OpenSession message. Also converts values to other types if specified.
       * @param message OpenSession
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.OpenSession,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this OpenSession to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for OpenSession
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace OpenSession {
      /** Properties of an OpenSession. */
      interface $Properties {
        /** OpenSession volumeId */
        volumeId?: string | null;

        /** OpenSession epoch */
        epoch?: number | null;

        /** OpenSession sizeBytes */
        sizeBytes?: number | null;

        /** OpenSession chunkSizeBytes */
        chunkSizeBytes?: number | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of an OpenSession. */
      type $Shape = ballast.dataplane.OpenSession.$Properties;
    }

    /**
     * Properties of an OpenSessionResponse.
     * @deprecated Use ballast.dataplane.OpenSessionResponse.$Properties instead.
     */
    interface IOpenSessionResponse extends ballast.dataplane.OpenSessionResponse.$Properties {}

    /** Represents an OpenSessionResponse. */
    class OpenSessionResponse {
      /**
       * Constructs a new OpenSessionResponse.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.OpenSessionResponse.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** OpenSessionResponse status. */
      status?: ballast.dataplane.Status.$Properties | null;

      /** OpenSessionResponse sessionId. */
      sessionId: number;

      /** OpenSessionResponse sizeBytes. */
      sizeBytes: number;

      /** OpenSessionResponse chunkSizeBytes. */
      chunkSizeBytes: number;

      /** OpenSessionResponse blockSizeBytes. */
      blockSizeBytes: number;

      /** OpenSessionResponse highestEpoch. */
      highestEpoch: number;

      /**
       * Creates a new OpenSessionResponse instance using the specified properties.
       * @param [properties] Properties to set
       * @returns OpenSessionResponse instance
       */
      static create(
        properties: ballast.dataplane.OpenSessionResponse.$Shape,
      ): ballast.dataplane.OpenSessionResponse & ballast.dataplane.OpenSessionResponse.$Shape;
      static create(
        properties?: ballast.dataplane.OpenSessionResponse.$Properties,
      ): ballast.dataplane.OpenSessionResponse;

      /**
       * Encodes the specified OpenSessionResponse message. Does not implicitly {@link ballast.dataplane.OpenSessionResponse.verify|verify} messages.
       * @param message OpenSessionResponse message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.OpenSessionResponse.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes an OpenSessionResponse message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.OpenSessionResponse & ballast.dataplane.OpenSessionResponse.$Shape} OpenSessionResponse
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.OpenSessionResponse & ballast.dataplane.OpenSessionResponse.$Shape;

      /**
       * Verifies an OpenSessionResponse message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates an OpenSessionResponse message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns OpenSessionResponse
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.OpenSessionResponse;

      /**
       * Creates a plain object from an OpenSessionResponse message. Also converts values to other types if specified.
       * @param message OpenSessionResponse
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.OpenSessionResponse,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this OpenSessionResponse to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for OpenSessionResponse
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace OpenSessionResponse {
      /** Properties of an OpenSessionResponse. */
      interface $Properties {
        /** OpenSessionResponse status */
        status?: ballast.dataplane.Status.$Properties | null;

        /** OpenSessionResponse sessionId */
        sessionId?: number | null;

        /** OpenSessionResponse sizeBytes */
        sizeBytes?: number | null;

        /** OpenSessionResponse chunkSizeBytes */
        chunkSizeBytes?: number | null;

        /** OpenSessionResponse blockSizeBytes */
        blockSizeBytes?: number | null;

        /** OpenSessionResponse highestEpoch */
        highestEpoch?: number | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of an OpenSessionResponse. */
      type $Shape = ballast.dataplane.OpenSessionResponse.$Properties;
    }

    /**
     * Properties of a CloseSession.
     * @deprecated Use ballast.dataplane.CloseSession.$Properties instead.
     */
    interface ICloseSession extends ballast.dataplane.CloseSession.$Properties {}

    /** Represents a CloseSession. */
    class CloseSession {
      /**
       * Constructs a new CloseSession.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.CloseSession.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** CloseSession sessionId. */
      sessionId: number;

      /**
       * Creates a new CloseSession instance using the specified properties.
       * @param [properties] Properties to set
       * @returns CloseSession instance
       */
      static create(
        properties: ballast.dataplane.CloseSession.$Shape,
      ): ballast.dataplane.CloseSession & ballast.dataplane.CloseSession.$Shape;
      static create(
        properties?: ballast.dataplane.CloseSession.$Properties,
      ): ballast.dataplane.CloseSession;

      /**
       * Encodes the specified CloseSession message. Does not implicitly {@link ballast.dataplane.CloseSession.verify|verify} messages.
       * @param message CloseSession message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.CloseSession.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a CloseSession message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.CloseSession & ballast.dataplane.CloseSession.$Shape} CloseSession
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.CloseSession & ballast.dataplane.CloseSession.$Shape;

      /**
       * Verifies a CloseSession message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a CloseSession message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns CloseSession
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.CloseSession;

      /**
       * Creates a plain object from a CloseSession message. Also converts values to other types if specified.
       * @param message CloseSession
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.CloseSession,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this CloseSession to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for CloseSession
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace CloseSession {
      /** Properties of a CloseSession. */
      interface $Properties {
        /** CloseSession sessionId */
        sessionId?: number | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a CloseSession. */
      type $Shape = ballast.dataplane.CloseSession.$Properties;
    }

    /**
     * Properties of a ReadRequest.
     * @deprecated Use ballast.dataplane.ReadRequest.$Properties instead.
     */
    interface IReadRequest extends ballast.dataplane.ReadRequest.$Properties {}

    /** Represents a ReadRequest. */
    class ReadRequest {
      /**
       * Constructs a new ReadRequest.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.ReadRequest.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** ReadRequest sessionId. */
      sessionId: number;

      /** ReadRequest offset. */
      offset: number;

      /** ReadRequest length. */
      length: number;

      /**
       * Creates a new ReadRequest instance using the specified properties.
       * @param [properties] Properties to set
       * @returns ReadRequest instance
       */
      static create(
        properties: ballast.dataplane.ReadRequest.$Shape,
      ): ballast.dataplane.ReadRequest & ballast.dataplane.ReadRequest.$Shape;
      static create(
        properties?: ballast.dataplane.ReadRequest.$Properties,
      ): ballast.dataplane.ReadRequest;

      /**
       * Encodes the specified ReadRequest message. Does not implicitly {@link ballast.dataplane.ReadRequest.verify|verify} messages.
       * @param message ReadRequest message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.ReadRequest.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a ReadRequest message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.ReadRequest & ballast.dataplane.ReadRequest.$Shape} ReadRequest
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.ReadRequest & ballast.dataplane.ReadRequest.$Shape;

      /**
       * Verifies a ReadRequest message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a ReadRequest message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns ReadRequest
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.ReadRequest;

      /**
       * Creates a plain object from a ReadRequest message. Also converts values to other types if specified.
       * @param message ReadRequest
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.ReadRequest,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this ReadRequest to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for ReadRequest
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace ReadRequest {
      /** Properties of a ReadRequest. */
      interface $Properties {
        /** ReadRequest sessionId */
        sessionId?: number | null;

        /** ReadRequest offset */
        offset?: number | null;

        /** ReadRequest length */
        length?: number | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a ReadRequest. */
      type $Shape = ballast.dataplane.ReadRequest.$Properties;
    }

    /**
     * Properties of a ReadResponse.
     * @deprecated Use ballast.dataplane.ReadResponse.$Properties instead.
     */
    interface IReadResponse extends ballast.dataplane.ReadResponse.$Properties {}

    /** Represents a ReadResponse. */
    class ReadResponse {
      /**
       * Constructs a new ReadResponse.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.ReadResponse.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** ReadResponse status. */
      status?: ballast.dataplane.Status.$Properties | null;

      /**
       * Creates a new ReadResponse instance using the specified properties.
       * @param [properties] Properties to set
       * @returns ReadResponse instance
       */
      static create(
        properties: ballast.dataplane.ReadResponse.$Shape,
      ): ballast.dataplane.ReadResponse & ballast.dataplane.ReadResponse.$Shape;
      static create(
        properties?: ballast.dataplane.ReadResponse.$Properties,
      ): ballast.dataplane.ReadResponse;

      /**
       * Encodes the specified ReadResponse message. Does not implicitly {@link ballast.dataplane.ReadResponse.verify|verify} messages.
       * @param message ReadResponse message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.ReadResponse.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a ReadResponse message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.ReadResponse & ballast.dataplane.ReadResponse.$Shape} ReadResponse
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.ReadResponse & ballast.dataplane.ReadResponse.$Shape;

      /**
       * Verifies a ReadResponse message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a ReadResponse message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns ReadResponse
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.ReadResponse;

      /**
       * Creates a plain object from a ReadResponse message. Also converts values to other types if specified.
       * @param message ReadResponse
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.ReadResponse,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this ReadResponse to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for ReadResponse
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace ReadResponse {
      /** Properties of a ReadResponse. */
      interface $Properties {
        /** ReadResponse status */
        status?: ballast.dataplane.Status.$Properties | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a ReadResponse. */
      type $Shape = ballast.dataplane.ReadResponse.$Properties;
    }

    /**
     * Properties of a WriteRequest.
     * @deprecated Use ballast.dataplane.WriteRequest.$Properties instead.
     */
    interface IWriteRequest extends ballast.dataplane.WriteRequest.$Properties {}

    /** Represents a WriteRequest. */
    class WriteRequest {
      /**
       * Constructs a new WriteRequest.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.WriteRequest.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** WriteRequest sessionId. */
      sessionId: number;

      /** WriteRequest offset. */
      offset: number;

      /** WriteRequest fua. */
      fua: boolean;

      /**
       * Creates a new WriteRequest instance using the specified properties.
       * @param [properties] Properties to set
       * @returns WriteRequest instance
       */
      static create(
        properties: ballast.dataplane.WriteRequest.$Shape,
      ): ballast.dataplane.WriteRequest & ballast.dataplane.WriteRequest.$Shape;
      static create(
        properties?: ballast.dataplane.WriteRequest.$Properties,
      ): ballast.dataplane.WriteRequest;

      /**
       * Encodes the specified WriteRequest message. Does not implicitly {@link ballast.dataplane.WriteRequest.verify|verify} messages.
       * @param message WriteRequest message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.WriteRequest.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a WriteRequest message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.WriteRequest & ballast.dataplane.WriteRequest.$Shape} WriteRequest
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.WriteRequest & ballast.dataplane.WriteRequest.$Shape;

      /**
       * Verifies a WriteRequest message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a WriteRequest message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns WriteRequest
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.WriteRequest;

      /**
       * Creates a plain object from a WriteRequest message. Also converts values to other types if specified.
       * @param message WriteRequest
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.WriteRequest,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this WriteRequest to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for WriteRequest
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace WriteRequest {
      /** Properties of a WriteRequest. */
      interface $Properties {
        /** WriteRequest sessionId */
        sessionId?: number | null;

        /** WriteRequest offset */
        offset?: number | null;

        /** WriteRequest fua */
        fua?: boolean | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a WriteRequest. */
      type $Shape = ballast.dataplane.WriteRequest.$Properties;
    }

    /**
     * Properties of a WriteResponse.
     * @deprecated Use ballast.dataplane.WriteResponse.$Properties instead.
     */
    interface IWriteResponse extends ballast.dataplane.WriteResponse.$Properties {}

    /** Represents a WriteResponse. */
    class WriteResponse {
      /**
       * Constructs a new WriteResponse.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.WriteResponse.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** WriteResponse status. */
      status?: ballast.dataplane.Status.$Properties | null;

      /**
       * Creates a new WriteResponse instance using the specified properties.
       * @param [properties] Properties to set
       * @returns WriteResponse instance
       */
      static create(
        properties: ballast.dataplane.WriteResponse.$Shape,
      ): ballast.dataplane.WriteResponse & ballast.dataplane.WriteResponse.$Shape;
      static create(
        properties?: ballast.dataplane.WriteResponse.$Properties,
      ): ballast.dataplane.WriteResponse;

      /**
       * Encodes the specified WriteResponse message. Does not implicitly {@link ballast.dataplane.WriteResponse.verify|verify} messages.
       * @param message WriteResponse message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.WriteResponse.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a WriteResponse message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.WriteResponse & ballast.dataplane.WriteResponse.$Shape} WriteResponse
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.WriteResponse & ballast.dataplane.WriteResponse.$Shape;

      /**
       * Verifies a WriteResponse message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a WriteResponse message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns WriteResponse
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.WriteResponse;

      /**
       * Creates a plain object from a WriteResponse message. Also converts values to other types if specified.
       * @param message WriteResponse
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.WriteResponse,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this WriteResponse to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for WriteResponse
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace WriteResponse {
      /** Properties of a WriteResponse. */
      interface $Properties {
        /** WriteResponse status */
        status?: ballast.dataplane.Status.$Properties | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a WriteResponse. */
      type $Shape = ballast.dataplane.WriteResponse.$Properties;
    }

    /**
     * Properties of a FlushRequest.
     * @deprecated Use ballast.dataplane.FlushRequest.$Properties instead.
     */
    interface IFlushRequest extends ballast.dataplane.FlushRequest.$Properties {}

    /** Represents a FlushRequest. */
    class FlushRequest {
      /**
       * Constructs a new FlushRequest.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.FlushRequest.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** FlushRequest sessionId. */
      sessionId: number;

      /**
       * Creates a new FlushRequest instance using the specified properties.
       * @param [properties] Properties to set
       * @returns FlushRequest instance
       */
      static create(
        properties: ballast.dataplane.FlushRequest.$Shape,
      ): ballast.dataplane.FlushRequest & ballast.dataplane.FlushRequest.$Shape;
      static create(
        properties?: ballast.dataplane.FlushRequest.$Properties,
      ): ballast.dataplane.FlushRequest;

      /**
       * Encodes the specified FlushRequest message. Does not implicitly {@link ballast.dataplane.FlushRequest.verify|verify} messages.
       * @param message FlushRequest message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.FlushRequest.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a FlushRequest message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.FlushRequest & ballast.dataplane.FlushRequest.$Shape} FlushRequest
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.FlushRequest & ballast.dataplane.FlushRequest.$Shape;

      /**
       * Verifies a FlushRequest message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a FlushRequest message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns FlushRequest
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.FlushRequest;

      /**
       * Creates a plain object from a FlushRequest message. Also converts values to other types if specified.
       * @param message FlushRequest
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.FlushRequest,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this FlushRequest to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for FlushRequest
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace FlushRequest {
      /** Properties of a FlushRequest. */
      interface $Properties {
        /** FlushRequest sessionId */
        sessionId?: number | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a FlushRequest. */
      type $Shape = ballast.dataplane.FlushRequest.$Properties;
    }

    /**
     * Properties of a FlushResponse.
     * @deprecated Use ballast.dataplane.FlushResponse.$Properties instead.
     */
    interface IFlushResponse extends ballast.dataplane.FlushResponse.$Properties {}

    /** Represents a FlushResponse. */
    class FlushResponse {
      /**
       * Constructs a new FlushResponse.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.FlushResponse.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** FlushResponse status. */
      status?: ballast.dataplane.Status.$Properties | null;

      /**
       * Creates a new FlushResponse instance using the specified properties.
       * @param [properties] Properties to set
       * @returns FlushResponse instance
       */
      static create(
        properties: ballast.dataplane.FlushResponse.$Shape,
      ): ballast.dataplane.FlushResponse & ballast.dataplane.FlushResponse.$Shape;
      static create(
        properties?: ballast.dataplane.FlushResponse.$Properties,
      ): ballast.dataplane.FlushResponse;

      /**
       * Encodes the specified FlushResponse message. Does not implicitly {@link ballast.dataplane.FlushResponse.verify|verify} messages.
       * @param message FlushResponse message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.FlushResponse.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a FlushResponse message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.FlushResponse & ballast.dataplane.FlushResponse.$Shape} FlushResponse
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.FlushResponse & ballast.dataplane.FlushResponse.$Shape;

      /**
       * Verifies a FlushResponse message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a FlushResponse message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns FlushResponse
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.FlushResponse;

      /**
       * Creates a plain object from a FlushResponse message. Also converts values to other types if specified.
       * @param message FlushResponse
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.FlushResponse,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this FlushResponse to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for FlushResponse
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace FlushResponse {
      /** Properties of a FlushResponse. */
      interface $Properties {
        /** FlushResponse status */
        status?: ballast.dataplane.Status.$Properties | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a FlushResponse. */
      type $Shape = ballast.dataplane.FlushResponse.$Properties;
    }

    /**
     * Properties of a TrimRequest.
     * @deprecated Use ballast.dataplane.TrimRequest.$Properties instead.
     */
    interface ITrimRequest extends ballast.dataplane.TrimRequest.$Properties {}

    /** Represents a TrimRequest. */
    class TrimRequest {
      /**
       * Constructs a new TrimRequest.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.TrimRequest.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** TrimRequest sessionId. */
      sessionId: number;

      /** TrimRequest offset. */
      offset: number;

      /** TrimRequest length. */
      length: number;

      /** TrimRequest zero. */
      zero: boolean;

      /** TrimRequest noHole. */
      noHole: boolean;

      /** TrimRequest fua. */
      fua: boolean;

      /**
       * Creates a new TrimRequest instance using the specified properties.
       * @param [properties] Properties to set
       * @returns TrimRequest instance
       */
      static create(
        properties: ballast.dataplane.TrimRequest.$Shape,
      ): ballast.dataplane.TrimRequest & ballast.dataplane.TrimRequest.$Shape;
      static create(
        properties?: ballast.dataplane.TrimRequest.$Properties,
      ): ballast.dataplane.TrimRequest;

      /**
       * Encodes the specified TrimRequest message. Does not implicitly {@link ballast.dataplane.TrimRequest.verify|verify} messages.
       * @param message TrimRequest message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.TrimRequest.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a TrimRequest message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.TrimRequest & ballast.dataplane.TrimRequest.$Shape} TrimRequest
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.TrimRequest & ballast.dataplane.TrimRequest.$Shape;

      /**
       * Verifies a TrimRequest message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a TrimRequest message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns TrimRequest
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.TrimRequest;

      /**
       * Creates a plain object from a TrimRequest message. Also converts values to other types if specified.
       * @param message TrimRequest
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.TrimRequest,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this TrimRequest to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for TrimRequest
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace TrimRequest {
      /** Properties of a TrimRequest. */
      interface $Properties {
        /** TrimRequest sessionId */
        sessionId?: number | null;

        /** TrimRequest offset */
        offset?: number | null;

        /** TrimRequest length */
        length?: number | null;

        /** TrimRequest zero */
        zero?: boolean | null;

        /** TrimRequest noHole */
        noHole?: boolean | null;

        /** TrimRequest fua */
        fua?: boolean | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a TrimRequest. */
      type $Shape = ballast.dataplane.TrimRequest.$Properties;
    }

    /**
     * Properties of a TrimResponse.
     * @deprecated Use ballast.dataplane.TrimResponse.$Properties instead.
     */
    interface ITrimResponse extends ballast.dataplane.TrimResponse.$Properties {}

    /** Represents a TrimResponse. */
    class TrimResponse {
      /**
       * Constructs a new TrimResponse.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.TrimResponse.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** TrimResponse status. */
      status?: ballast.dataplane.Status.$Properties | null;

      /**
       * Creates a new TrimResponse instance using the specified properties.
       * @param [properties] Properties to set
       * @returns TrimResponse instance
       */
      static create(
        properties: ballast.dataplane.TrimResponse.$Shape,
      ): ballast.dataplane.TrimResponse & ballast.dataplane.TrimResponse.$Shape;
      static create(
        properties?: ballast.dataplane.TrimResponse.$Properties,
      ): ballast.dataplane.TrimResponse;

      /**
       * Encodes the specified TrimResponse message. Does not implicitly {@link ballast.dataplane.TrimResponse.verify|verify} messages.
       * @param message TrimResponse message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.TrimResponse.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a TrimResponse message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.TrimResponse & ballast.dataplane.TrimResponse.$Shape} TrimResponse
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.TrimResponse & ballast.dataplane.TrimResponse.$Shape;

      /**
       * Verifies a TrimResponse message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a TrimResponse message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns TrimResponse
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.TrimResponse;

      /**
       * Creates a plain object from a TrimResponse message. Also converts values to other types if specified.
       * @param message TrimResponse
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.TrimResponse,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this TrimResponse to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for TrimResponse
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace TrimResponse {
      /** Properties of a TrimResponse. */
      interface $Properties {
        /** TrimResponse status */
        status?: ballast.dataplane.Status.$Properties | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a TrimResponse. */
      type $Shape = ballast.dataplane.TrimResponse.$Properties;
    }

    /**
     * Properties of a ChunkInfo.
     * @deprecated Use ballast.dataplane.ChunkInfo.$Properties instead.
     */
    interface IChunkInfo extends ballast.dataplane.ChunkInfo.$Properties {}

    /** Represents a ChunkInfo. */
    class ChunkInfo {
      /**
       * Constructs a new ChunkInfo.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.ChunkInfo.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** ChunkInfo index. */
      index: number;

      /** ChunkInfo generation. */
      generation: number;

      /** ChunkInfo dirty. */
      dirty: boolean;

      /**
       * Creates a new ChunkInfo instance using the specified properties.
       * @param [properties] Properties to set
       * @returns ChunkInfo instance
       */
      static create(
        properties: ballast.dataplane.ChunkInfo.$Shape,
      ): ballast.dataplane.ChunkInfo & ballast.dataplane.ChunkInfo.$Shape;
      static create(
        properties?: ballast.dataplane.ChunkInfo.$Properties,
      ): ballast.dataplane.ChunkInfo;

      /**
       * Encodes the specified ChunkInfo message. Does not implicitly {@link ballast.dataplane.ChunkInfo.verify|verify} messages.
       * @param message ChunkInfo message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.ChunkInfo.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a ChunkInfo message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.ChunkInfo & ballast.dataplane.ChunkInfo.$Shape} ChunkInfo
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.ChunkInfo & ballast.dataplane.ChunkInfo.$Shape;

      /**
       * Verifies a ChunkInfo message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a ChunkInfo message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns ChunkInfo
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.ChunkInfo;

      /**
       * Creates a plain object from a ChunkInfo message. Also converts values to other types if specified.
       * @param message ChunkInfo
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.ChunkInfo,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this ChunkInfo to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for ChunkInfo
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace ChunkInfo {
      /** Properties of a ChunkInfo. */
      interface $Properties {
        /** ChunkInfo index */
        index?: number | null;

        /** ChunkInfo generation */
        generation?: number | null;

        /** ChunkInfo dirty */
        dirty?: boolean | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a ChunkInfo. */
      type $Shape = ballast.dataplane.ChunkInfo.$Properties;
    }

    /**
     * Properties of a GetChunkMapRequest.
     * @deprecated Use ballast.dataplane.GetChunkMapRequest.$Properties instead.
     */
    interface IGetChunkMapRequest extends ballast.dataplane.GetChunkMapRequest.$Properties {}

    /** Represents a GetChunkMapRequest. */
    class GetChunkMapRequest {
      /**
       * Constructs a new GetChunkMapRequest.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.GetChunkMapRequest.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** GetChunkMapRequest sessionId. */
      sessionId: number;

      /** GetChunkMapRequest volumeId. */
      volumeId: string;

      /**
       * Creates a new GetChunkMapRequest instance using the specified properties.
       * @param [properties] Properties to set
       * @returns GetChunkMapRequest instance
       */
      static create(
        properties: ballast.dataplane.GetChunkMapRequest.$Shape,
      ): ballast.dataplane.GetChunkMapRequest & ballast.dataplane.GetChunkMapRequest.$Shape;
      static create(
        properties?: ballast.dataplane.GetChunkMapRequest.$Properties,
      ): ballast.dataplane.GetChunkMapRequest;

      /**
       * Encodes the specified GetChunkMapRequest message. Does not implicitly {@link ballast.dataplane.GetChunkMapRequest.verify|verify} messages.
       * @param message GetChunkMapRequest message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.GetChunkMapRequest.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a GetChunkMapRequest message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.GetChunkMapRequest & ballast.dataplane.GetChunkMapRequest.$Shape} GetChunkMapRequest
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.GetChunkMapRequest & ballast.dataplane.GetChunkMapRequest.$Shape;

      /**
       * Verifies a GetChunkMapRequest message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a GetChunkMapRequest message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns GetChunkMapRequest
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.GetChunkMapRequest;

      /**
       * Creates a plain object from a GetChunkMapRequest message. Also converts values to other types if specified.
       * @param message GetChunkMapRequest
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.GetChunkMapRequest,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this GetChunkMapRequest to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for GetChunkMapRequest
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace GetChunkMapRequest {
      /** Properties of a GetChunkMapRequest. */
      interface $Properties {
        /** GetChunkMapRequest sessionId */
        sessionId?: number | null;

        /** GetChunkMapRequest volumeId */
        volumeId?: string | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a GetChunkMapRequest. */
      type $Shape = ballast.dataplane.GetChunkMapRequest.$Properties;
    }

    /**
     * Properties of a GetChunkMapResponse.
     * @deprecated Use ballast.dataplane.GetChunkMapResponse.$Properties instead.
     */
    interface IGetChunkMapResponse extends ballast.dataplane.GetChunkMapResponse.$Properties {}

    /** Represents a GetChunkMapResponse. */
    class GetChunkMapResponse {
      /**
       * Constructs a new GetChunkMapResponse.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.GetChunkMapResponse.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** GetChunkMapResponse status. */
      status?: ballast.dataplane.Status.$Properties | null;

      /** GetChunkMapResponse chunkSizeBytes. */
      chunkSizeBytes: number;

      /** GetChunkMapResponse chunks. */
      chunks: ballast.dataplane.ChunkInfo.$Properties[];

      /**
       * Creates a new GetChunkMapResponse instance using the specified properties.
       * @param [properties] Properties to set
       * @returns GetChunkMapResponse instance
       */
      static create(
        properties: ballast.dataplane.GetChunkMapResponse.$Shape,
      ): ballast.dataplane.GetChunkMapResponse & ballast.dataplane.GetChunkMapResponse.$Shape;
      static create(
        properties?: ballast.dataplane.GetChunkMapResponse.$Properties,
      ): ballast.dataplane.GetChunkMapResponse;

      /**
       * Encodes the specified GetChunkMapResponse message. Does not implicitly {@link ballast.dataplane.GetChunkMapResponse.verify|verify} messages.
       * @param message GetChunkMapResponse message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.GetChunkMapResponse.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a GetChunkMapResponse message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.GetChunkMapResponse & ballast.dataplane.GetChunkMapResponse.$Shape} GetChunkMapResponse
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.GetChunkMapResponse & ballast.dataplane.GetChunkMapResponse.$Shape;

      /**
       * Verifies a GetChunkMapResponse message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a GetChunkMapResponse message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns GetChunkMapResponse
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.GetChunkMapResponse;

      /**
       * Creates a plain object from a GetChunkMapResponse message. Also converts values to other types if specified.
       * @param message GetChunkMapResponse
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.GetChunkMapResponse,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this GetChunkMapResponse to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for GetChunkMapResponse
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace GetChunkMapResponse {
      /** Properties of a GetChunkMapResponse. */
      interface $Properties {
        /** GetChunkMapResponse status */
        status?: ballast.dataplane.Status.$Properties | null;

        /** GetChunkMapResponse chunkSizeBytes */
        chunkSizeBytes?: number | null;

        /** GetChunkMapResponse chunks */
        chunks?: ballast.dataplane.ChunkInfo.$Properties[] | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a GetChunkMapResponse. */
      type $Shape = ballast.dataplane.GetChunkMapResponse.$Properties;
    }

    /**
     * Properties of a ReadChunkRequest.
     * @deprecated Use ballast.dataplane.ReadChunkRequest.$Properties instead.
     */
    interface IReadChunkRequest extends ballast.dataplane.ReadChunkRequest.$Properties {}

    /** Represents a ReadChunkRequest. */
    class ReadChunkRequest {
      /**
       * Constructs a new ReadChunkRequest.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.ReadChunkRequest.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** ReadChunkRequest sessionId. */
      sessionId: number;

      /** ReadChunkRequest volumeId. */
      volumeId: string;

      /** ReadChunkRequest index. */
      index: number;

      /**
       * Creates a new ReadChunkRequest instance using the specified properties.
       * @param [properties] Properties to set
       * @returns ReadChunkRequest instance
       */
      static create(
        properties: ballast.dataplane.ReadChunkRequest.$Shape,
      ): ballast.dataplane.ReadChunkRequest & ballast.dataplane.ReadChunkRequest.$Shape;
      static create(
        properties?: ballast.dataplane.ReadChunkRequest.$Properties,
      ): ballast.dataplane.ReadChunkRequest;

      /**
       * Encodes the specified ReadChunkRequest message. Does not implicitly {@link ballast.dataplane.ReadChunkRequest.verify|verify} messages.
       * @param message ReadChunkRequest message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.ReadChunkRequest.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a ReadChunkRequest message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.ReadChunkRequest & ballast.dataplane.ReadChunkRequest.$Shape} ReadChunkRequest
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.ReadChunkRequest & ballast.dataplane.ReadChunkRequest.$Shape;

      /**
       * Verifies a ReadChunkRequest message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a ReadChunkRequest message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns ReadChunkRequest
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.ReadChunkRequest;

      /**
       * Creates a plain object from a ReadChunkRequest message. Also converts values to other types if specified.
       * @param message ReadChunkRequest
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.ReadChunkRequest,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this ReadChunkRequest to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for ReadChunkRequest
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace ReadChunkRequest {
      /** Properties of a ReadChunkRequest. */
      interface $Properties {
        /** ReadChunkRequest sessionId */
        sessionId?: number | null;

        /** ReadChunkRequest volumeId */
        volumeId?: string | null;

        /** ReadChunkRequest index */
        index?: number | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a ReadChunkRequest. */
      type $Shape = ballast.dataplane.ReadChunkRequest.$Properties;
    }

    /**
     * Properties of a ReadChunkResponse.
     * @deprecated Use ballast.dataplane.ReadChunkResponse.$Properties instead.
     */
    interface IReadChunkResponse extends ballast.dataplane.ReadChunkResponse.$Properties {}

    /** Represents a ReadChunkResponse. */
    class ReadChunkResponse {
      /**
       * Constructs a new ReadChunkResponse.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.ReadChunkResponse.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** ReadChunkResponse status. */
      status?: ballast.dataplane.Status.$Properties | null;

      /** ReadChunkResponse generation. */
      generation: number;

      /** ReadChunkResponse hole. */
      hole: boolean;

      /**
       * Creates a new ReadChunkResponse instance using the specified properties.
       * @param [properties] Properties to set
       * @returns ReadChunkResponse instance
       */
      static create(
        properties: ballast.dataplane.ReadChunkResponse.$Shape,
      ): ballast.dataplane.ReadChunkResponse & ballast.dataplane.ReadChunkResponse.$Shape;
      static create(
        properties?: ballast.dataplane.ReadChunkResponse.$Properties,
      ): ballast.dataplane.ReadChunkResponse;

      /**
       * Encodes the specified ReadChunkResponse message. Does not implicitly {@link ballast.dataplane.ReadChunkResponse.verify|verify} messages.
       * @param message ReadChunkResponse message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.ReadChunkResponse.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a ReadChunkResponse message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.ReadChunkResponse & ballast.dataplane.ReadChunkResponse.$Shape} ReadChunkResponse
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.ReadChunkResponse & ballast.dataplane.ReadChunkResponse.$Shape;

      /**
       * Verifies a ReadChunkResponse message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a ReadChunkResponse message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns ReadChunkResponse
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.ReadChunkResponse;

      /**
       * Creates a plain object from a ReadChunkResponse message. Also converts values to other types if specified.
       * @param message ReadChunkResponse
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.ReadChunkResponse,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this ReadChunkResponse to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for ReadChunkResponse
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace ReadChunkResponse {
      /** Properties of a ReadChunkResponse. */
      interface $Properties {
        /** ReadChunkResponse status */
        status?: ballast.dataplane.Status.$Properties | null;

        /** ReadChunkResponse generation */
        generation?: number | null;

        /** ReadChunkResponse hole */
        hole?: boolean | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a ReadChunkResponse. */
      type $Shape = ballast.dataplane.ReadChunkResponse.$Properties;
    }

    /**
     * Properties of a WriteChunkRequest.
     * @deprecated Use ballast.dataplane.WriteChunkRequest.$Properties instead.
     */
    interface IWriteChunkRequest extends ballast.dataplane.WriteChunkRequest.$Properties {}

    /** Represents a WriteChunkRequest. */
    class WriteChunkRequest {
      /**
       * Constructs a new WriteChunkRequest.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.WriteChunkRequest.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** WriteChunkRequest sessionId. */
      sessionId: number;

      /** WriteChunkRequest index. */
      index: number;

      /** WriteChunkRequest generation. */
      generation: number;

      /** WriteChunkRequest hole. */
      hole: boolean;

      /**
       * Creates a new WriteChunkRequest instance using the specified properties.
       * @param [properties] Properties to set
       * @returns WriteChunkRequest instance
       */
      static create(
        properties: ballast.dataplane.WriteChunkRequest.$Shape,
      ): ballast.dataplane.WriteChunkRequest & ballast.dataplane.WriteChunkRequest.$Shape;
      static create(
        properties?: ballast.dataplane.WriteChunkRequest.$Properties,
      ): ballast.dataplane.WriteChunkRequest;

      /**
       * Encodes the specified WriteChunkRequest message. Does not implicitly {@link ballast.dataplane.WriteChunkRequest.verify|verify} messages.
       * @param message WriteChunkRequest message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.WriteChunkRequest.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a WriteChunkRequest message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.WriteChunkRequest & ballast.dataplane.WriteChunkRequest.$Shape} WriteChunkRequest
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.WriteChunkRequest & ballast.dataplane.WriteChunkRequest.$Shape;

      /**
       * Verifies a WriteChunkRequest message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a WriteChunkRequest message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns WriteChunkRequest
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.WriteChunkRequest;

      /**
       * Creates a plain object from a WriteChunkRequest message. Also converts values to other types if specified.
       * @param message WriteChunkRequest
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.WriteChunkRequest,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this WriteChunkRequest to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for WriteChunkRequest
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace WriteChunkRequest {
      /** Properties of a WriteChunkRequest. */
      interface $Properties {
        /** WriteChunkRequest sessionId */
        sessionId?: number | null;

        /** WriteChunkRequest index */
        index?: number | null;

        /** WriteChunkRequest generation */
        generation?: number | null;

        /** WriteChunkRequest hole */
        hole?: boolean | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a WriteChunkRequest. */
      type $Shape = ballast.dataplane.WriteChunkRequest.$Properties;
    }

    /**
     * Properties of a WriteChunkResponse.
     * @deprecated Use ballast.dataplane.WriteChunkResponse.$Properties instead.
     */
    interface IWriteChunkResponse extends ballast.dataplane.WriteChunkResponse.$Properties {}

    /** Represents a WriteChunkResponse. */
    class WriteChunkResponse {
      /**
       * Constructs a new WriteChunkResponse.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.WriteChunkResponse.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** WriteChunkResponse status. */
      status?: ballast.dataplane.Status.$Properties | null;

      /**
       * Creates a new WriteChunkResponse instance using the specified properties.
       * @param [properties] Properties to set
       * @returns WriteChunkResponse instance
       */
      static create(
        properties: ballast.dataplane.WriteChunkResponse.$Shape,
      ): ballast.dataplane.WriteChunkResponse & ballast.dataplane.WriteChunkResponse.$Shape;
      static create(
        properties?: ballast.dataplane.WriteChunkResponse.$Properties,
      ): ballast.dataplane.WriteChunkResponse;

      /**
       * Encodes the specified WriteChunkResponse message. Does not implicitly {@link ballast.dataplane.WriteChunkResponse.verify|verify} messages.
       * @param message WriteChunkResponse message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.WriteChunkResponse.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a WriteChunkResponse message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.WriteChunkResponse & ballast.dataplane.WriteChunkResponse.$Shape} WriteChunkResponse
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.WriteChunkResponse & ballast.dataplane.WriteChunkResponse.$Shape;

      /**
       * Verifies a WriteChunkResponse message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a WriteChunkResponse message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns WriteChunkResponse
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.WriteChunkResponse;

      /**
       * Creates a plain object from a WriteChunkResponse message. Also converts values to other types if specified.
       * @param message WriteChunkResponse
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.WriteChunkResponse,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this WriteChunkResponse to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for WriteChunkResponse
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace WriteChunkResponse {
      /** Properties of a WriteChunkResponse. */
      interface $Properties {
        /** WriteChunkResponse status */
        status?: ballast.dataplane.Status.$Properties | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a WriteChunkResponse. */
      type $Shape = ballast.dataplane.WriteChunkResponse.$Properties;
    }

    /**
     * Properties of an ErrorNotice.
     * @deprecated Use ballast.dataplane.ErrorNotice.$Properties instead.
     */
    interface IErrorNotice extends ballast.dataplane.ErrorNotice.$Properties {}

    /** Represents an ErrorNotice. */
    class ErrorNotice {
      /**
       * Constructs a new ErrorNotice.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.dataplane.ErrorNotice.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** ErrorNotice status. */
      status?: ballast.dataplane.Status.$Properties | null;

      /**
       * Creates a new ErrorNotice instance using the specified properties.
       * @param [properties] Properties to set
       * @returns ErrorNotice instance
       */
      static create(
        properties: ballast.dataplane.ErrorNotice.$Shape,
      ): ballast.dataplane.ErrorNotice & ballast.dataplane.ErrorNotice.$Shape;
      static create(
        properties?: ballast.dataplane.ErrorNotice.$Properties,
      ): ballast.dataplane.ErrorNotice;

      /**
       * Encodes the specified ErrorNotice message. Does not implicitly {@link ballast.dataplane.ErrorNotice.verify|verify} messages.
       * @param message ErrorNotice message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.dataplane.ErrorNotice.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes an ErrorNotice message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.dataplane.ErrorNotice & ballast.dataplane.ErrorNotice.$Shape} ErrorNotice
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.dataplane.ErrorNotice & ballast.dataplane.ErrorNotice.$Shape;

      /**
       * Verifies an ErrorNotice message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates an ErrorNotice message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns ErrorNotice
       */
      static fromObject(object: { [k: string]: any }): ballast.dataplane.ErrorNotice;

      /**
       * Creates a plain object from an ErrorNotice message. Also converts values to other types if specified.
       * @param message ErrorNotice
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.dataplane.ErrorNotice,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this ErrorNotice to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for ErrorNotice
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace ErrorNotice {
      /** Properties of an ErrorNotice. */
      interface $Properties {
        /** ErrorNotice status */
        status?: ballast.dataplane.Status.$Properties | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of an ErrorNotice. */
      type $Shape = ballast.dataplane.ErrorNotice.$Properties;
    }
  }

  /** Namespace node. */
  namespace node {
    /** ReplicaHealth enum. */
    enum ReplicaHealth {
      /** REPLICA_HEALTHY value */
      REPLICA_HEALTHY = 0,

      /** REPLICA_DEGRADED value */
      REPLICA_DEGRADED = 1,

      /** REPLICA_FAILED value */
      REPLICA_FAILED = 2,
    }

    /**
     * Properties of a ReplicaReport.
     * @deprecated Use ballast.node.ReplicaReport.$Properties instead.
     */
    interface IReplicaReport extends ballast.node.ReplicaReport.$Properties {}

    /** Represents a ReplicaReport. */
    class ReplicaReport {
      /**
       * Constructs a new ReplicaReport.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.node.ReplicaReport.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** ReplicaReport volumeId. */
      volumeId: string;

      /** ReplicaReport highestEpoch. */
      highestEpoch: number;

      /** ReplicaReport allocatedBytes. */
      allocatedBytes: number;

      /** ReplicaReport health. */
      health: ballast.node.ReplicaHealth;

      /**
       * Creates a new ReplicaReport instance using the specified properties.
       * @param [properties] Properties to set
       * @returns ReplicaReport instance
       */
      static create(
        properties: ballast.node.ReplicaReport.$Shape,
      ): ballast.node.ReplicaReport & ballast.node.ReplicaReport.$Shape;
      static create(
        properties?: ballast.node.ReplicaReport.$Properties,
      ): ballast.node.ReplicaReport;

      /**
       * Encodes the specified ReplicaReport message. Does not implicitly {@link ballast.node.ReplicaReport.verify|verify} messages.
       * @param message ReplicaReport message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.node.ReplicaReport.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a ReplicaReport message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.node.ReplicaReport & ballast.node.ReplicaReport.$Shape} ReplicaReport
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.node.ReplicaReport & ballast.node.ReplicaReport.$Shape;

      /**
       * Verifies a ReplicaReport message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a ReplicaReport message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns ReplicaReport
       */
      static fromObject(object: { [k: string]: any }): ballast.node.ReplicaReport;

      /**
       * Creates a plain object from a ReplicaReport message. Also converts values to other types if specified.
       * @param message ReplicaReport
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.node.ReplicaReport,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this ReplicaReport to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for ReplicaReport
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace ReplicaReport {
      /** Properties of a ReplicaReport. */
      interface $Properties {
        /** ReplicaReport volumeId */
        volumeId?: string | null;

        /** ReplicaReport highestEpoch */
        highestEpoch?: number | null;

        /** ReplicaReport allocatedBytes */
        allocatedBytes?: number | null;

        /** ReplicaReport health */
        health?: ballast.node.ReplicaHealth | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a ReplicaReport. */
      type $Shape = ballast.node.ReplicaReport.$Properties;
    }

    /**
     * Properties of a NodeHeartbeat.
     * @deprecated Use ballast.node.NodeHeartbeat.$Properties instead.
     */
    interface INodeHeartbeat extends ballast.node.NodeHeartbeat.$Properties {}

    /** Represents a NodeHeartbeat. */
    class NodeHeartbeat {
      /**
       * Constructs a new NodeHeartbeat.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.node.NodeHeartbeat.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** NodeHeartbeat nodeId. */
      nodeId: string;

      /** NodeHeartbeat address. */
      address: string;

      /** NodeHeartbeat labels. */
      labels: { [k: string]: string };

      /** NodeHeartbeat capacityBytes. */
      capacityBytes: number;

      /** NodeHeartbeat usedBytes. */
      usedBytes: number;

      /** NodeHeartbeat replicas. */
      replicas: ballast.node.ReplicaReport.$Properties[];

      /** NodeHeartbeat sequence. */
      sequence: number;

      /** NodeHeartbeat checksumErrors. */
      checksumErrors: number;

      /**
       * Creates a new NodeHeartbeat instance using the specified properties.
       * @param [properties] Properties to set
       * @returns NodeHeartbeat instance
       */
      static create(
        properties: ballast.node.NodeHeartbeat.$Shape,
      ): ballast.node.NodeHeartbeat & ballast.node.NodeHeartbeat.$Shape;
      static create(
        properties?: ballast.node.NodeHeartbeat.$Properties,
      ): ballast.node.NodeHeartbeat;

      /**
       * Encodes the specified NodeHeartbeat message. Does not implicitly {@link ballast.node.NodeHeartbeat.verify|verify} messages.
       * @param message NodeHeartbeat message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.node.NodeHeartbeat.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a NodeHeartbeat message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.node.NodeHeartbeat & ballast.node.NodeHeartbeat.$Shape} NodeHeartbeat
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.node.NodeHeartbeat & ballast.node.NodeHeartbeat.$Shape;

      /**
       * Verifies a NodeHeartbeat message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a NodeHeartbeat message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns NodeHeartbeat
       */
      static fromObject(object: { [k: string]: any }): ballast.node.NodeHeartbeat;

      /**
       * Creates a plain object from a NodeHeartbeat message. Also converts values to other types if specified.
       * @param message NodeHeartbeat
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.node.NodeHeartbeat,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this NodeHeartbeat to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for NodeHeartbeat
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace NodeHeartbeat {
      /** Properties of a NodeHeartbeat. */
      interface $Properties {
        /** NodeHeartbeat nodeId */
        nodeId?: string | null;

        /** NodeHeartbeat address */
        address?: string | null;

        /** NodeHeartbeat labels */
        labels?: { [k: string]: string } | null;

        /** NodeHeartbeat capacityBytes */
        capacityBytes?: number | null;

        /** NodeHeartbeat usedBytes */
        usedBytes?: number | null;

        /** NodeHeartbeat replicas */
        replicas?: ballast.node.ReplicaReport.$Properties[] | null;

        /** NodeHeartbeat sequence */
        sequence?: number | null;

        /** NodeHeartbeat checksumErrors */
        checksumErrors?: number | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a NodeHeartbeat. */
      type $Shape = ballast.node.NodeHeartbeat.$Properties;
    }

    /**
     * Properties of a NodeHeartbeatResponse.
     * @deprecated Use ballast.node.NodeHeartbeatResponse.$Properties instead.
     */
    interface INodeHeartbeatResponse extends ballast.node.NodeHeartbeatResponse.$Properties {}

    /** Represents a NodeHeartbeatResponse. */
    class NodeHeartbeatResponse {
      /**
       * Constructs a new NodeHeartbeatResponse.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.node.NodeHeartbeatResponse.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** NodeHeartbeatResponse ok. */
      ok: boolean;

      /** NodeHeartbeatResponse message. */
      message: string;

      /**
       * Creates a new NodeHeartbeatResponse instance using the specified properties.
       * @param [properties] Properties to set
       * @returns NodeHeartbeatResponse instance
       */
      static create(
        properties: ballast.node.NodeHeartbeatResponse.$Shape,
      ): ballast.node.NodeHeartbeatResponse & ballast.node.NodeHeartbeatResponse.$Shape;
      static create(
        properties?: ballast.node.NodeHeartbeatResponse.$Properties,
      ): ballast.node.NodeHeartbeatResponse;

      /**
       * Encodes the specified NodeHeartbeatResponse message. Does not implicitly {@link ballast.node.NodeHeartbeatResponse.verify|verify} messages.
       * @param message NodeHeartbeatResponse message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.node.NodeHeartbeatResponse.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a NodeHeartbeatResponse message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.node.NodeHeartbeatResponse & ballast.node.NodeHeartbeatResponse.$Shape} NodeHeartbeatResponse
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.node.NodeHeartbeatResponse & ballast.node.NodeHeartbeatResponse.$Shape;

      /**
       * Verifies a NodeHeartbeatResponse message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a NodeHeartbeatResponse message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns NodeHeartbeatResponse
       */
      static fromObject(object: { [k: string]: any }): ballast.node.NodeHeartbeatResponse;

      /**
       * Creates a plain object from a NodeHeartbeatResponse message. Also converts values to other types if specified.
       * @param message NodeHeartbeatResponse
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.node.NodeHeartbeatResponse,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this NodeHeartbeatResponse to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for NodeHeartbeatResponse
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace NodeHeartbeatResponse {
      /** Properties of a NodeHeartbeatResponse. */
      interface $Properties {
        /** NodeHeartbeatResponse ok */
        ok?: boolean | null;

        /** NodeHeartbeatResponse message */
        message?: string | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a NodeHeartbeatResponse. */
      type $Shape = ballast.node.NodeHeartbeatResponse.$Properties;
    }
  }

  /** Namespace raft. */
  namespace raft {
    /** EntryType enum. */
    enum EntryType {
      /** ENTRY_NORMAL value */
      ENTRY_NORMAL = 0,

      /** ENTRY_CONF_CHANGE value */
      ENTRY_CONF_CHANGE = 1,
    }

    /**
     * Properties of an Entry.
     * @deprecated Use ballast.raft.Entry.$Properties instead.
     */
    interface IEntry extends ballast.raft.Entry.$Properties {}

    /** Represents an Entry. */
    class Entry {
      /**
       * Constructs a new Entry.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.raft.Entry.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** Entry term. */
      term: number;

      /** Entry index. */
      index: number;

      /** Entry type. */
      type: ballast.raft.EntryType;

      /** Entry data. */
      data: Uint8Array;

      /**
       * Creates a new Entry instance using the specified properties.
       * @param [properties] Properties to set
       * @returns Entry instance
       */
      static create(
        properties: ballast.raft.Entry.$Shape,
      ): ballast.raft.Entry & ballast.raft.Entry.$Shape;
      static create(properties?: ballast.raft.Entry.$Properties): ballast.raft.Entry;

      /**
       * Encodes the specified Entry message. Does not implicitly {@link ballast.raft.Entry.verify|verify} messages.
       * @param message Entry message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.raft.Entry.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes an Entry message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.raft.Entry & ballast.raft.Entry.$Shape} Entry
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.raft.Entry & ballast.raft.Entry.$Shape;

      /**
       * Verifies an Entry message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates an Entry message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns Entry
       */
      static fromObject(object: { [k: string]: any }): ballast.raft.Entry;

      /**
       * Creates a plain object from an Entry message. Also converts values to other types if specified.
       * @param message Entry
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.raft.Entry,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this Entry to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for Entry
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace Entry {
      /** Properties of an Entry. */
      interface $Properties {
        /** Entry term */
        term?: number | null;

        /** Entry index */
        index?: number | null;

        /** Entry type */
        type?: ballast.raft.EntryType | null;

        /** Entry data */
        data?: Uint8Array | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of an Entry. */
      type $Shape = ballast.raft.Entry.$Properties;
    }

    /** ConfChangeType enum. */
    enum ConfChangeType {
      /** CONF_ADD_VOTER value */
      CONF_ADD_VOTER = 0,

      /** CONF_REMOVE_NODE value */
      CONF_REMOVE_NODE = 1,

      /** CONF_ADD_LEARNER value */
      CONF_ADD_LEARNER = 2,
    }

    /**
     * Properties of a ConfChange.
     * @deprecated Use ballast.raft.ConfChange.$Properties instead.
     */
    interface IConfChange extends ballast.raft.ConfChange.$Properties {}

    /** Represents a ConfChange. */
    class ConfChange {
      /**
       * Constructs a new ConfChange.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.raft.ConfChange.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** ConfChange type. */
      type: ballast.raft.ConfChangeType;

      /** ConfChange nodeId. */
      nodeId: string;

      /** ConfChange context. */
      context: Uint8Array;

      /**
       * Creates a new ConfChange instance using the specified properties.
       * @param [properties] Properties to set
       * @returns ConfChange instance
       */
      static create(
        properties: ballast.raft.ConfChange.$Shape,
      ): ballast.raft.ConfChange & ballast.raft.ConfChange.$Shape;
      static create(properties?: ballast.raft.ConfChange.$Properties): ballast.raft.ConfChange;

      /**
       * Encodes the specified ConfChange message. Does not implicitly {@link ballast.raft.ConfChange.verify|verify} messages.
       * @param message ConfChange message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.raft.ConfChange.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a ConfChange message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.raft.ConfChange & ballast.raft.ConfChange.$Shape} ConfChange
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.raft.ConfChange & ballast.raft.ConfChange.$Shape;

      /**
       * Verifies a ConfChange message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a ConfChange message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns ConfChange
       */
      static fromObject(object: { [k: string]: any }): ballast.raft.ConfChange;

      /**
       * Creates a plain object from a ConfChange message. Also converts values to other types if specified.
       * @param message ConfChange
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.raft.ConfChange,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this ConfChange to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for ConfChange
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace ConfChange {
      /** Properties of a ConfChange. */
      interface $Properties {
        /** ConfChange type */
        type?: ballast.raft.ConfChangeType | null;

        /** ConfChange nodeId */
        nodeId?: string | null;

        /** ConfChange context */
        context?: Uint8Array | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a ConfChange. */
      type $Shape = ballast.raft.ConfChange.$Properties;
    }

    /**
     * Properties of a ConfState.
     * @deprecated Use ballast.raft.ConfState.$Properties instead.
     */
    interface IConfState extends ballast.raft.ConfState.$Properties {}

    /** Represents a ConfState. */
    class ConfState {
      /**
       * Constructs a new ConfState.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.raft.ConfState.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** ConfState voters. */
      voters: string[];

      /** ConfState learners. */
      learners: string[];

      /**
       * Creates a new ConfState instance using the specified properties.
       * @param [properties] Properties to set
       * @returns ConfState instance
       */
      static create(
        properties: ballast.raft.ConfState.$Shape,
      ): ballast.raft.ConfState & ballast.raft.ConfState.$Shape;
      static create(properties?: ballast.raft.ConfState.$Properties): ballast.raft.ConfState;

      /**
       * Encodes the specified ConfState message. Does not implicitly {@link ballast.raft.ConfState.verify|verify} messages.
       * @param message ConfState message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.raft.ConfState.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a ConfState message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.raft.ConfState & ballast.raft.ConfState.$Shape} ConfState
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.raft.ConfState & ballast.raft.ConfState.$Shape;

      /**
       * Verifies a ConfState message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a ConfState message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns ConfState
       */
      static fromObject(object: { [k: string]: any }): ballast.raft.ConfState;

      /**
       * Creates a plain object from a ConfState message. Also converts values to other types if specified.
       * @param message ConfState
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.raft.ConfState,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this ConfState to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for ConfState
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace ConfState {
      /** Properties of a ConfState. */
      interface $Properties {
        /** ConfState voters */
        voters?: string[] | null;

        /** ConfState learners */
        learners?: string[] | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a ConfState. */
      type $Shape = ballast.raft.ConfState.$Properties;
    }

    /**
     * Properties of a HardState.
     * @deprecated Use ballast.raft.HardState.$Properties instead.
     */
    interface IHardState extends ballast.raft.HardState.$Properties {}

    /** Represents a HardState. */
    class HardState {
      /**
       * Constructs a new HardState.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.raft.HardState.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** HardState term. */
      term: number;

      /** HardState vote. */
      vote: string;

      /** HardState commit. */
      commit: number;

      /**
       * Creates a new HardState instance using the specified properties.
       * @param [properties] Properties to set
       * @returns HardState instance
       */
      static create(
        properties: ballast.raft.HardState.$Shape,
      ): ballast.raft.HardState & ballast.raft.HardState.$Shape;
      static create(properties?: ballast.raft.HardState.$Properties): ballast.raft.HardState;

      /**
       * Encodes the specified HardState message. Does not implicitly {@link ballast.raft.HardState.verify|verify} messages.
       * @param message HardState message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.raft.HardState.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a HardState message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.raft.HardState & ballast.raft.HardState.$Shape} HardState
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.raft.HardState & ballast.raft.HardState.$Shape;

      /**
       * Verifies a HardState message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a HardState message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns HardState
       */
      static fromObject(object: { [k: string]: any }): ballast.raft.HardState;

      /**
       * Creates a plain object from a HardState message. Also converts values to other types if specified.
       * @param message HardState
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.raft.HardState,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this HardState to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for HardState
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace HardState {
      /** Properties of a HardState. */
      interface $Properties {
        /** HardState term */
        term?: number | null;

        /** HardState vote */
        vote?: string | null;

        /** HardState commit */
        commit?: number | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a HardState. */
      type $Shape = ballast.raft.HardState.$Properties;
    }

    /**
     * Properties of a SnapshotMetadata.
     * @deprecated Use ballast.raft.SnapshotMetadata.$Properties instead.
     */
    interface ISnapshotMetadata extends ballast.raft.SnapshotMetadata.$Properties {}

    /** Represents a SnapshotMetadata. */
    class SnapshotMetadata {
      /**
       * Constructs a new SnapshotMetadata.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.raft.SnapshotMetadata.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** SnapshotMetadata index. */
      index: number;

      /** SnapshotMetadata term. */
      term: number;

      /** SnapshotMetadata confState. */
      confState?: ballast.raft.ConfState.$Properties | null;

      /**
       * Creates a new SnapshotMetadata instance using the specified properties.
       * @param [properties] Properties to set
       * @returns SnapshotMetadata instance
       */
      static create(
        properties: ballast.raft.SnapshotMetadata.$Shape,
      ): ballast.raft.SnapshotMetadata & ballast.raft.SnapshotMetadata.$Shape;
      static create(
        properties?: ballast.raft.SnapshotMetadata.$Properties,
      ): ballast.raft.SnapshotMetadata;

      /**
       * Encodes the specified SnapshotMetadata message. Does not implicitly {@link ballast.raft.SnapshotMetadata.verify|verify} messages.
       * @param message SnapshotMetadata message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.raft.SnapshotMetadata.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a SnapshotMetadata message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.raft.SnapshotMetadata & ballast.raft.SnapshotMetadata.$Shape} SnapshotMetadata
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.raft.SnapshotMetadata & ballast.raft.SnapshotMetadata.$Shape;

      /**
       * Verifies a SnapshotMetadata message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a SnapshotMetadata message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns SnapshotMetadata
       */
      static fromObject(object: { [k: string]: any }): ballast.raft.SnapshotMetadata;

      /**
       * Creates a plain object from a SnapshotMetadata message. Also converts values to other types if specified.
       * @param message SnapshotMetadata
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.raft.SnapshotMetadata,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this SnapshotMetadata to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for SnapshotMetadata
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace SnapshotMetadata {
      /** Properties of a SnapshotMetadata. */
      interface $Properties {
        /** SnapshotMetadata index */
        index?: number | null;

        /** SnapshotMetadata term */
        term?: number | null;

        /** SnapshotMetadata confState */
        confState?: ballast.raft.ConfState.$Properties | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a SnapshotMetadata. */
      type $Shape = ballast.raft.SnapshotMetadata.$Properties;
    }

    /**
     * Properties of a Snapshot.
     * @deprecated Use ballast.raft.Snapshot.$Properties instead.
     */
    interface ISnapshot extends ballast.raft.Snapshot.$Properties {}

    /** Represents a Snapshot. */
    class Snapshot {
      /**
       * Constructs a new Snapshot.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.raft.Snapshot.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** Snapshot metadata. */
      metadata?: ballast.raft.SnapshotMetadata.$Properties | null;

      /** Snapshot data. */
      data: Uint8Array;

      /**
       * Creates a new Snapshot instance using the specified properties.
       * @param [properties] Properties to set
       * @returns Snapshot instance
       */
      static create(
        properties: ballast.raft.Snapshot.$Shape,
      ): ballast.raft.Snapshot & ballast.raft.Snapshot.$Shape;
      static create(properties?: ballast.raft.Snapshot.$Properties): ballast.raft.Snapshot;

      /**
       * Encodes the specified Snapshot message. Does not implicitly {@link ballast.raft.Snapshot.verify|verify} messages.
       * @param message Snapshot message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.raft.Snapshot.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a Snapshot message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.raft.Snapshot & ballast.raft.Snapshot.$Shape} Snapshot
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.raft.Snapshot & ballast.raft.Snapshot.$Shape;

      /**
       * Verifies a Snapshot message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a Snapshot message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns Snapshot
       */
      static fromObject(object: { [k: string]: any }): ballast.raft.Snapshot;

      /**
       * Creates a plain object from a Snapshot message. Also converts values to other types if specified.
       * @param message Snapshot
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.raft.Snapshot,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this Snapshot to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for Snapshot
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace Snapshot {
      /** Properties of a Snapshot. */
      interface $Properties {
        /** Snapshot metadata */
        metadata?: ballast.raft.SnapshotMetadata.$Properties | null;

        /** Snapshot data */
        data?: Uint8Array | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a Snapshot. */
      type $Shape = ballast.raft.Snapshot.$Properties;
    }

    /**
     * Properties of a RequestVote.
     * @deprecated Use ballast.raft.RequestVote.$Properties instead.
     */
    interface IRequestVote extends ballast.raft.RequestVote.$Properties {}

    /** Represents a RequestVote. */
    class RequestVote {
      /**
       * Constructs a new RequestVote.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.raft.RequestVote.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** RequestVote lastLogIndex. */
      lastLogIndex: number;

      /** RequestVote lastLogTerm. */
      lastLogTerm: number;

      /** RequestVote preVote. */
      preVote: boolean;

      /** RequestVote leaderTransfer. */
      leaderTransfer: boolean;

      /**
       * Creates a new RequestVote instance using the specified properties.
       * @param [properties] Properties to set
       * @returns RequestVote instance
       */
      static create(
        properties: ballast.raft.RequestVote.$Shape,
      ): ballast.raft.RequestVote & ballast.raft.RequestVote.$Shape;
      static create(properties?: ballast.raft.RequestVote.$Properties): ballast.raft.RequestVote;

      /**
       * Encodes the specified RequestVote message. Does not implicitly {@link ballast.raft.RequestVote.verify|verify} messages.
       * @param message RequestVote message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.raft.RequestVote.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a RequestVote message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.raft.RequestVote & ballast.raft.RequestVote.$Shape} RequestVote
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.raft.RequestVote & ballast.raft.RequestVote.$Shape;

      /**
       * Verifies a RequestVote message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a RequestVote message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns RequestVote
       */
      static fromObject(object: { [k: string]: any }): ballast.raft.RequestVote;

      /**
       * Creates a plain object from a RequestVote message. Also converts values to other types if specified.
       * @param message RequestVote
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.raft.RequestVote,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this RequestVote to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for RequestVote
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace RequestVote {
      /** Properties of a RequestVote. */
      interface $Properties {
        /** RequestVote lastLogIndex */
        lastLogIndex?: number | null;

        /** RequestVote lastLogTerm */
        lastLogTerm?: number | null;

        /** RequestVote preVote */
        preVote?: boolean | null;

        /** RequestVote leaderTransfer */
        leaderTransfer?: boolean | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a RequestVote. */
      type $Shape = ballast.raft.RequestVote.$Properties;
    }

    /**
     * Properties of a RequestVoteResponse.
     * @deprecated Use ballast.raft.RequestVoteResponse.$Properties instead.
     */
    interface IRequestVoteResponse extends ballast.raft.RequestVoteResponse.$Properties {}

    /** Represents a RequestVoteResponse. */
    class RequestVoteResponse {
      /**
       * Constructs a new RequestVoteResponse.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.raft.RequestVoteResponse.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** RequestVoteResponse granted. */
      granted: boolean;

      /** RequestVoteResponse preVote. */
      preVote: boolean;

      /**
       * Creates a new RequestVoteResponse instance using the specified properties.
       * @param [properties] Properties to set
       * @returns RequestVoteResponse instance
       */
      static create(
        properties: ballast.raft.RequestVoteResponse.$Shape,
      ): ballast.raft.RequestVoteResponse & ballast.raft.RequestVoteResponse.$Shape;
      static create(
        properties?: ballast.raft.RequestVoteResponse.$Properties,
      ): ballast.raft.RequestVoteResponse;

      /**
       * Encodes the specified RequestVoteResponse message. Does not implicitly {@link ballast.raft.RequestVoteResponse.verify|verify} messages.
       * @param message RequestVoteResponse message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.raft.RequestVoteResponse.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a RequestVoteResponse message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.raft.RequestVoteResponse & ballast.raft.RequestVoteResponse.$Shape} RequestVoteResponse
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.raft.RequestVoteResponse & ballast.raft.RequestVoteResponse.$Shape;

      /**
       * Verifies a RequestVoteResponse message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a RequestVoteResponse message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns RequestVoteResponse
       */
      static fromObject(object: { [k: string]: any }): ballast.raft.RequestVoteResponse;

      /**
       * Creates a plain object from a RequestVoteResponse message. Also converts values to other types if specified.
       * @param message RequestVoteResponse
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.raft.RequestVoteResponse,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this RequestVoteResponse to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for RequestVoteResponse
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace RequestVoteResponse {
      /** Properties of a RequestVoteResponse. */
      interface $Properties {
        /** RequestVoteResponse granted */
        granted?: boolean | null;

        /** RequestVoteResponse preVote */
        preVote?: boolean | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a RequestVoteResponse. */
      type $Shape = ballast.raft.RequestVoteResponse.$Properties;
    }

    /**
     * Properties of an AppendEntries.
     * @deprecated Use ballast.raft.AppendEntries.$Properties instead.
     */
    interface IAppendEntries extends ballast.raft.AppendEntries.$Properties {}

    /** Represents an AppendEntries. */
    class AppendEntries {
      /**
       * Constructs a new AppendEntries.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.raft.AppendEntries.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** AppendEntries prevLogIndex. */
      prevLogIndex: number;

      /** AppendEntries prevLogTerm. */
      prevLogTerm: number;

      /** AppendEntries entries. */
      entries: ballast.raft.Entry.$Properties[];

      /** AppendEntries leaderCommit. */
      leaderCommit: number;

      /**
       * Creates a new AppendEntries instance using the specified properties.
       * @param [properties] Properties to set
       * @returns AppendEntries instance
       */
      static create(
        properties: ballast.raft.AppendEntries.$Shape,
      ): ballast.raft.AppendEntries & ballast.raft.AppendEntries.$Shape;
      static create(
        properties?: ballast.raft.AppendEntries.$Properties,
      ): ballast.raft.AppendEntries;

      /**
       * Encodes the specified AppendEntries message. Does not implicitly {@link ballast.raft.AppendEntries.verify|verify} messages.
       * @param message AppendEntries message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.raft.AppendEntries.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes an AppendEntries message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.raft.AppendEntries & ballast.raft.AppendEntries.$Shape} AppendEntries
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.raft.AppendEntries & ballast.raft.AppendEntries.$Shape;

      /**
       * Verifies an AppendEntries message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates an AppendEntries message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns AppendEntries
       */
      static fromObject(object: { [k: string]: any }): ballast.raft.AppendEntries;

      /**
       * Creates a plain object from an AppendEntries message. Also converts values to other types if specified.
       * @param message AppendEntries
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.raft.AppendEntries,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this AppendEntries to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for AppendEntries
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace AppendEntries {
      /** Properties of an AppendEntries. */
      interface $Properties {
        /** AppendEntries prevLogIndex */
        prevLogIndex?: number | null;

        /** AppendEntries prevLogTerm */
        prevLogTerm?: number | null;

        /** AppendEntries entries */
        entries?: ballast.raft.Entry.$Properties[] | null;

        /** AppendEntries leaderCommit */
        leaderCommit?: number | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of an AppendEntries. */
      type $Shape = ballast.raft.AppendEntries.$Properties;
    }

    /**
     * Properties of an AppendEntriesResponse.
     * @deprecated Use ballast.raft.AppendEntriesResponse.$Properties instead.
     */
    interface IAppendEntriesResponse extends ballast.raft.AppendEntriesResponse.$Properties {}

    /** Represents an AppendEntriesResponse. */
    class AppendEntriesResponse {
      /**
       * Constructs a new AppendEntriesResponse.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.raft.AppendEntriesResponse.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** AppendEntriesResponse success. */
      success: boolean;

      /** AppendEntriesResponse matchIndex. */
      matchIndex: number;

      /** AppendEntriesResponse rejectIndex. */
      rejectIndex: number;

      /** AppendEntriesResponse rejectHint. */
      rejectHint: number;

      /**
       * Creates a new AppendEntriesResponse instance using the specified properties.
       * @param [properties] Properties to set
       * @returns AppendEntriesResponse instance
       */
      static create(
        properties: ballast.raft.AppendEntriesResponse.$Shape,
      ): ballast.raft.AppendEntriesResponse & ballast.raft.AppendEntriesResponse.$Shape;
      static create(
        properties?: ballast.raft.AppendEntriesResponse.$Properties,
      ): ballast.raft.AppendEntriesResponse;

      /**
       * Encodes the specified AppendEntriesResponse message. Does not implicitly {@link ballast.raft.AppendEntriesResponse.verify|verify} messages.
       * @param message AppendEntriesResponse message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.raft.AppendEntriesResponse.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes an AppendEntriesResponse message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.raft.AppendEntriesResponse & ballast.raft.AppendEntriesResponse.$Shape} AppendEntriesResponse
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.raft.AppendEntriesResponse & ballast.raft.AppendEntriesResponse.$Shape;

      /**
       * Verifies an AppendEntriesResponse message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates an AppendEntriesResponse message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns AppendEntriesResponse
       */
      static fromObject(object: { [k: string]: any }): ballast.raft.AppendEntriesResponse;

      /**
       * Creates a plain object from an AppendEntriesResponse message. Also converts values to other types if specified.
       * @param message AppendEntriesResponse
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.raft.AppendEntriesResponse,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this AppendEntriesResponse to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for AppendEntriesResponse
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace AppendEntriesResponse {
      /** Properties of an AppendEntriesResponse. */
      interface $Properties {
        /** AppendEntriesResponse success */
        success?: boolean | null;

        /** AppendEntriesResponse matchIndex */
        matchIndex?: number | null;

        /** AppendEntriesResponse rejectIndex */
        rejectIndex?: number | null;

        /** AppendEntriesResponse rejectHint */
        rejectHint?: number | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of an AppendEntriesResponse. */
      type $Shape = ballast.raft.AppendEntriesResponse.$Properties;
    }

    /**
     * Properties of a Heartbeat.
     * @deprecated Use ballast.raft.Heartbeat.$Properties instead.
     */
    interface IHeartbeat extends ballast.raft.Heartbeat.$Properties {}

    /** Represents a Heartbeat. */
    class Heartbeat {
      /**
       * Constructs a new Heartbeat.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.raft.Heartbeat.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** Heartbeat commit. */
      commit: number;

      /** Heartbeat context. */
      context: Uint8Array;

      /**
       * Creates a new Heartbeat instance using the specified properties.
       * @param [properties] Properties to set
       * @returns Heartbeat instance
       */
      static create(
        properties: ballast.raft.Heartbeat.$Shape,
      ): ballast.raft.Heartbeat & ballast.raft.Heartbeat.$Shape;
      static create(properties?: ballast.raft.Heartbeat.$Properties): ballast.raft.Heartbeat;

      /**
       * Encodes the specified Heartbeat message. Does not implicitly {@link ballast.raft.Heartbeat.verify|verify} messages.
       * @param message Heartbeat message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.raft.Heartbeat.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a Heartbeat message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.raft.Heartbeat & ballast.raft.Heartbeat.$Shape} Heartbeat
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.raft.Heartbeat & ballast.raft.Heartbeat.$Shape;

      /**
       * Verifies a Heartbeat message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a Heartbeat message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns Heartbeat
       */
      static fromObject(object: { [k: string]: any }): ballast.raft.Heartbeat;

      /**
       * Creates a plain object from a Heartbeat message. Also converts values to other types if specified.
       * @param message Heartbeat
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.raft.Heartbeat,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this Heartbeat to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for Heartbeat
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace Heartbeat {
      /** Properties of a Heartbeat. */
      interface $Properties {
        /** Heartbeat commit */
        commit?: number | null;

        /** Heartbeat context */
        context?: Uint8Array | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a Heartbeat. */
      type $Shape = ballast.raft.Heartbeat.$Properties;
    }

    /**
     * Properties of a HeartbeatResponse.
     * @deprecated Use ballast.raft.HeartbeatResponse.$Properties instead.
     */
    interface IHeartbeatResponse extends ballast.raft.HeartbeatResponse.$Properties {}

    /** Represents a HeartbeatResponse. */
    class HeartbeatResponse {
      /**
       * Constructs a new HeartbeatResponse.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.raft.HeartbeatResponse.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** HeartbeatResponse context. */
      context: Uint8Array;

      /**
       * Creates a new HeartbeatResponse instance using the specified properties.
       * @param [properties] Properties to set
       * @returns HeartbeatResponse instance
       */
      static create(
        properties: ballast.raft.HeartbeatResponse.$Shape,
      ): ballast.raft.HeartbeatResponse & ballast.raft.HeartbeatResponse.$Shape;
      static create(
        properties?: ballast.raft.HeartbeatResponse.$Properties,
      ): ballast.raft.HeartbeatResponse;

      /**
       * Encodes the specified HeartbeatResponse message. Does not implicitly {@link ballast.raft.HeartbeatResponse.verify|verify} messages.
       * @param message HeartbeatResponse message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.raft.HeartbeatResponse.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a HeartbeatResponse message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.raft.HeartbeatResponse & ballast.raft.HeartbeatResponse.$Shape} HeartbeatResponse
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.raft.HeartbeatResponse & ballast.raft.HeartbeatResponse.$Shape;

      /**
       * Verifies a HeartbeatResponse message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a HeartbeatResponse message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns HeartbeatResponse
       */
      static fromObject(object: { [k: string]: any }): ballast.raft.HeartbeatResponse;

      /**
       * Creates a plain object from a HeartbeatResponse message. Also converts values to other types if specified.
       * @param message HeartbeatResponse
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.raft.HeartbeatResponse,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this HeartbeatResponse to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for HeartbeatResponse
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace HeartbeatResponse {
      /** Properties of a HeartbeatResponse. */
      interface $Properties {
        /** HeartbeatResponse context */
        context?: Uint8Array | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a HeartbeatResponse. */
      type $Shape = ballast.raft.HeartbeatResponse.$Properties;
    }

    /**
     * Properties of an InstallSnapshot.
     * @deprecated Use ballast.raft.InstallSnapshot.$Properties instead.
     */
    interface IInstallSnapshot extends ballast.raft.InstallSnapshot.$Properties {}

    /** Represents an InstallSnapshot. */
    class InstallSnapshot {
      /**
       * Constructs a new InstallSnapshot.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.raft.InstallSnapshot.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** InstallSnapshot metadata. */
      metadata?: ballast.raft.SnapshotMetadata.$Properties | null;

      /** InstallSnapshot offset. */
      offset: number;

      /** InstallSnapshot data. */
      data: Uint8Array;

      /** InstallSnapshot done. */
      done: boolean;

      /**
       * Creates a new InstallSnapshot instance using the specified properties.
       * @param [properties] Properties to set
       * @returns InstallSnapshot instance
       */
      static create(
        properties: ballast.raft.InstallSnapshot.$Shape,
      ): ballast.raft.InstallSnapshot & ballast.raft.InstallSnapshot.$Shape;
      static create(
        properties?: ballast.raft.InstallSnapshot.$Properties,
      ): ballast.raft.InstallSnapshot;

      /**
       * Encodes the specified InstallSnapshot message. Does not implicitly {@link ballast.raft.InstallSnapshot.verify|verify} messages.
       * @param message InstallSnapshot message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.raft.InstallSnapshot.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes an InstallSnapshot message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.raft.InstallSnapshot & ballast.raft.InstallSnapshot.$Shape} InstallSnapshot
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.raft.InstallSnapshot & ballast.raft.InstallSnapshot.$Shape;

      /**
       * Verifies an InstallSnapshot message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates an InstallSnapshot message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns InstallSnapshot
       */
      static fromObject(object: { [k: string]: any }): ballast.raft.InstallSnapshot;

      /**
       * Creates a plain object from an InstallSnapshot message. Also converts values to other types if specified.
       * @param message InstallSnapshot
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.raft.InstallSnapshot,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this InstallSnapshot to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for InstallSnapshot
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace InstallSnapshot {
      /** Properties of an InstallSnapshot. */
      interface $Properties {
        /** InstallSnapshot metadata */
        metadata?: ballast.raft.SnapshotMetadata.$Properties | null;

        /** InstallSnapshot offset */
        offset?: number | null;

        /** InstallSnapshot data */
        data?: Uint8Array | null;

        /** InstallSnapshot done */
        done?: boolean | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of an InstallSnapshot. */
      type $Shape = ballast.raft.InstallSnapshot.$Properties;
    }

    /**
     * Properties of an InstallSnapshotResponse.
     * @deprecated Use ballast.raft.InstallSnapshotResponse.$Properties instead.
     */
    interface IInstallSnapshotResponse extends ballast.raft.InstallSnapshotResponse.$Properties {}

    /** Represents an InstallSnapshotResponse. */
    class InstallSnapshotResponse {
      /**
       * Constructs a new InstallSnapshotResponse.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.raft.InstallSnapshotResponse.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** InstallSnapshotResponse index. */
      index: number;

      /** InstallSnapshotResponse success. */
      success: boolean;

      /** InstallSnapshotResponse nextOffset. */
      nextOffset: number;

      /**
       * Creates a new InstallSnapshotResponse instance using the specified properties.
       * @param [properties] Properties to set
       * @returns InstallSnapshotResponse instance
       */
      static create(
        properties: ballast.raft.InstallSnapshotResponse.$Shape,
      ): ballast.raft.InstallSnapshotResponse & ballast.raft.InstallSnapshotResponse.$Shape;
      static create(
        properties?: ballast.raft.InstallSnapshotResponse.$Properties,
      ): ballast.raft.InstallSnapshotResponse;

      /**
       * Encodes the specified InstallSnapshotResponse message. Does not implicitly {@link ballast.raft.InstallSnapshotResponse.verify|verify} messages.
       * @param message InstallSnapshotResponse message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.raft.InstallSnapshotResponse.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes an InstallSnapshotResponse message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.raft.InstallSnapshotResponse & ballast.raft.InstallSnapshotResponse.$Shape} InstallSnapshotResponse
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.raft.InstallSnapshotResponse & ballast.raft.InstallSnapshotResponse.$Shape;

      /**
       * Verifies an InstallSnapshotResponse message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates an InstallSnapshotResponse message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns InstallSnapshotResponse
       */
      static fromObject(object: { [k: string]: any }): ballast.raft.InstallSnapshotResponse;

      /**
       * Creates a plain object from an InstallSnapshotResponse message. Also converts values to other types if specified.
       * @param message InstallSnapshotResponse
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.raft.InstallSnapshotResponse,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this InstallSnapshotResponse to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for InstallSnapshotResponse
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace InstallSnapshotResponse {
      /** Properties of an InstallSnapshotResponse. */
      interface $Properties {
        /** InstallSnapshotResponse index */
        index?: number | null;

        /** InstallSnapshotResponse success */
        success?: boolean | null;

        /** InstallSnapshotResponse nextOffset */
        nextOffset?: number | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of an InstallSnapshotResponse. */
      type $Shape = ballast.raft.InstallSnapshotResponse.$Properties;
    }

    /**
     * Properties of a TimeoutNow.
     * @deprecated Use ballast.raft.TimeoutNow.$Properties instead.
     */
    interface ITimeoutNow extends ballast.raft.TimeoutNow.$Properties {}

    /** Represents a TimeoutNow. */
    class TimeoutNow {
      /**
       * Constructs a new TimeoutNow.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.raft.TimeoutNow.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /**
       * Creates a new TimeoutNow instance using the specified properties.
       * @param [properties] Properties to set
       * @returns TimeoutNow instance
       */
      static create(
        properties: ballast.raft.TimeoutNow.$Shape,
      ): ballast.raft.TimeoutNow & ballast.raft.TimeoutNow.$Shape;
      static create(properties?: ballast.raft.TimeoutNow.$Properties): ballast.raft.TimeoutNow;

      /**
       * Encodes the specified TimeoutNow message. Does not implicitly {@link ballast.raft.TimeoutNow.verify|verify} messages.
       * @param message TimeoutNow message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.raft.TimeoutNow.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a TimeoutNow message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.raft.TimeoutNow & ballast.raft.TimeoutNow.$Shape} TimeoutNow
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.raft.TimeoutNow & ballast.raft.TimeoutNow.$Shape;

      /**
       * Verifies a TimeoutNow message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a TimeoutNow message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns TimeoutNow
       */
      static fromObject(object: { [k: string]: any }): ballast.raft.TimeoutNow;

      /**
       * Creates a plain object from a TimeoutNow message. Also converts values to other types if specified.
       * @param message TimeoutNow
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.raft.TimeoutNow,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this TimeoutNow to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for TimeoutNow
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace TimeoutNow {
      /** Properties of a TimeoutNow. */
      interface $Properties {
        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a TimeoutNow. */
      type $Shape = ballast.raft.TimeoutNow.$Properties;
    }

    /**
     * Properties of a ReadIndexRequest.
     * @deprecated Use ballast.raft.ReadIndexRequest.$Properties instead.
     */
    interface IReadIndexRequest extends ballast.raft.ReadIndexRequest.$Properties {}

    /** Represents a ReadIndexRequest. */
    class ReadIndexRequest {
      /**
       * Constructs a new ReadIndexRequest.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.raft.ReadIndexRequest.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** ReadIndexRequest context. */
      context: Uint8Array;

      /**
       * Creates a new ReadIndexRequest instance using the specified properties.
       * @param [properties] Properties to set
       * @returns ReadIndexRequest instance
       */
      static create(
        properties: ballast.raft.ReadIndexRequest.$Shape,
      ): ballast.raft.ReadIndexRequest & ballast.raft.ReadIndexRequest.$Shape;
      static create(
        properties?: ballast.raft.ReadIndexRequest.$Properties,
      ): ballast.raft.ReadIndexRequest;

      /**
       * Encodes the specified ReadIndexRequest message. Does not implicitly {@link ballast.raft.ReadIndexRequest.verify|verify} messages.
       * @param message ReadIndexRequest message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.raft.ReadIndexRequest.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a ReadIndexRequest message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.raft.ReadIndexRequest & ballast.raft.ReadIndexRequest.$Shape} ReadIndexRequest
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.raft.ReadIndexRequest & ballast.raft.ReadIndexRequest.$Shape;

      /**
       * Verifies a ReadIndexRequest message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a ReadIndexRequest message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns ReadIndexRequest
       */
      static fromObject(object: { [k: string]: any }): ballast.raft.ReadIndexRequest;

      /**
       * Creates a plain object from a ReadIndexRequest message. Also converts values to other types if specified.
       * @param message ReadIndexRequest
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.raft.ReadIndexRequest,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this ReadIndexRequest to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for ReadIndexRequest
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace ReadIndexRequest {
      /** Properties of a ReadIndexRequest. */
      interface $Properties {
        /** ReadIndexRequest context */
        context?: Uint8Array | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a ReadIndexRequest. */
      type $Shape = ballast.raft.ReadIndexRequest.$Properties;
    }

    /**
     * Properties of a ReadIndexResponse.
     * @deprecated Use ballast.raft.ReadIndexResponse.$Properties instead.
     */
    interface IReadIndexResponse extends ballast.raft.ReadIndexResponse.$Properties {}

    /** Represents a ReadIndexResponse. */
    class ReadIndexResponse {
      /**
       * Constructs a new ReadIndexResponse.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.raft.ReadIndexResponse.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** ReadIndexResponse index. */
      index: number;

      /** ReadIndexResponse context. */
      context: Uint8Array;

      /** ReadIndexResponse ok. */
      ok: boolean;

      /**
       * Creates a new ReadIndexResponse instance using the specified properties.
       * @param [properties] Properties to set
       * @returns ReadIndexResponse instance
       */
      static create(
        properties: ballast.raft.ReadIndexResponse.$Shape,
      ): ballast.raft.ReadIndexResponse & ballast.raft.ReadIndexResponse.$Shape;
      static create(
        properties?: ballast.raft.ReadIndexResponse.$Properties,
      ): ballast.raft.ReadIndexResponse;

      /**
       * Encodes the specified ReadIndexResponse message. Does not implicitly {@link ballast.raft.ReadIndexResponse.verify|verify} messages.
       * @param message ReadIndexResponse message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.raft.ReadIndexResponse.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a ReadIndexResponse message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.raft.ReadIndexResponse & ballast.raft.ReadIndexResponse.$Shape} ReadIndexResponse
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.raft.ReadIndexResponse & ballast.raft.ReadIndexResponse.$Shape;

      /**
       * Verifies a ReadIndexResponse message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a ReadIndexResponse message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns ReadIndexResponse
       */
      static fromObject(object: { [k: string]: any }): ballast.raft.ReadIndexResponse;

      /**
       * Creates a plain object from a ReadIndexResponse message. Also converts values to other types if specified.
       * @param message ReadIndexResponse
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.raft.ReadIndexResponse,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this ReadIndexResponse to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for ReadIndexResponse
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace ReadIndexResponse {
      /** Properties of a ReadIndexResponse. */
      interface $Properties {
        /** ReadIndexResponse index */
        index?: number | null;

        /** ReadIndexResponse context */
        context?: Uint8Array | null;

        /** ReadIndexResponse ok */
        ok?: boolean | null;

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Shape of a ReadIndexResponse. */
      type $Shape = ballast.raft.ReadIndexResponse.$Properties;
    }

    /**
     * Properties of a RaftMessage.
     * @deprecated Use ballast.raft.RaftMessage.$Properties instead.
     */
    interface IRaftMessage extends ballast.raft.RaftMessage.$Properties {}

    /** Represents a RaftMessage. */
    class RaftMessage {
      /**
       * Constructs a new RaftMessage.
       * @param [properties] Properties to set
       */
      constructor(properties?: ballast.raft.RaftMessage.$Properties);

      /** Unknown fields preserved while decoding when enabled */
      $unknowns?: Uint8Array[];

      /** RaftMessage clusterId. */
      clusterId: string;

      /** RaftMessage from. */
      from: string;

      /** RaftMessage to. */
      to: string;

      /** RaftMessage term. */
      term: number;

      /** RaftMessage requestVote. */
      requestVote?: ballast.raft.RequestVote.$Properties | null;

      /** RaftMessage requestVoteResponse. */
      requestVoteResponse?: ballast.raft.RequestVoteResponse.$Properties | null;

      /** RaftMessage appendEntries. */
      appendEntries?: ballast.raft.AppendEntries.$Properties | null;

      /** RaftMessage appendEntriesResponse. */
      appendEntriesResponse?: ballast.raft.AppendEntriesResponse.$Properties | null;

      /** RaftMessage heartbeat. */
      heartbeat?: ballast.raft.Heartbeat.$Properties | null;

      /** RaftMessage heartbeatResponse. */
      heartbeatResponse?: ballast.raft.HeartbeatResponse.$Properties | null;

      /** RaftMessage installSnapshot. */
      installSnapshot?: ballast.raft.InstallSnapshot.$Properties | null;

      /** RaftMessage installSnapshotResponse. */
      installSnapshotResponse?: ballast.raft.InstallSnapshotResponse.$Properties | null;

      /** RaftMessage timeoutNow. */
      timeoutNow?: ballast.raft.TimeoutNow.$Properties | null;

      /** RaftMessage readIndex. */
      readIndex?: ballast.raft.ReadIndexRequest.$Properties | null;

      /** RaftMessage readIndexResponse. */
      readIndexResponse?: ballast.raft.ReadIndexResponse.$Properties | null;

      /** RaftMessage body. */
      body?:
        | 'requestVote'
        | 'requestVoteResponse'
        | 'appendEntries'
        | 'appendEntriesResponse'
        | 'heartbeat'
        | 'heartbeatResponse'
        | 'installSnapshot'
        | 'installSnapshotResponse'
        | 'timeoutNow'
        | 'readIndex'
        | 'readIndexResponse';

      /**
       * Creates a new RaftMessage instance using the specified properties.
       * @param [properties] Properties to set
       * @returns RaftMessage instance
       */
      static create(
        properties: ballast.raft.RaftMessage.$Shape,
      ): ballast.raft.RaftMessage & ballast.raft.RaftMessage.$Shape;
      static create(properties?: ballast.raft.RaftMessage.$Properties): ballast.raft.RaftMessage;

      /**
       * Encodes the specified RaftMessage message. Does not implicitly {@link ballast.raft.RaftMessage.verify|verify} messages.
       * @param message RaftMessage message or plain object to encode
       * @param [writer] Writer to encode to
       * @returns Writer
       */
      static encode(
        message: ballast.raft.RaftMessage.$Properties,
        writer?: $protobuf.Writer,
      ): $protobuf.Writer;

      /**
       * Decodes a RaftMessage message from the specified reader or buffer.
       * @param reader Reader or buffer to decode from
       * @param [length] Message length if known beforehand
       * @returns {ballast.raft.RaftMessage & ballast.raft.RaftMessage.$Shape} RaftMessage
       * @throws {Error} If the payload is not a reader or valid buffer
       * @throws {$protobuf.util.ProtocolError} If required fields are missing
       */
      static decode(
        reader: $protobuf.Reader | Uint8Array,
        length?: number,
      ): ballast.raft.RaftMessage & ballast.raft.RaftMessage.$Shape;

      /**
       * Verifies a RaftMessage message.
       * @param message Plain object to verify
       * @returns `null` if valid, otherwise the reason why it is not
       */
      static verify(message: { [k: string]: any }): string | null;

      /**
       * Creates a RaftMessage message from a plain object. Also converts values to their respective internal types.
       * @param object Plain object
       * @returns RaftMessage
       */
      static fromObject(object: { [k: string]: any }): ballast.raft.RaftMessage;

      /**
       * Creates a plain object from a RaftMessage message. Also converts values to other types if specified.
       * @param message RaftMessage
       * @param [options] Conversion options
       * @returns Plain object
       */
      static toObject(
        message: ballast.raft.RaftMessage,
        options?: $protobuf.IConversionOptions,
      ): { [k: string]: any };

      /**
       * Converts this RaftMessage to JSON.
       * @returns JSON object
       */
      toJSON(): { [k: string]: any };

      /**
       * Gets the type url for RaftMessage
       * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
       * @returns The type url
       */
      static getTypeUrl(prefix?: string): string;
    }

    namespace RaftMessage {
      /** Properties of a RaftMessage. */
      interface $Properties {
        /** RaftMessage clusterId */
        clusterId?: string | null;

        /** RaftMessage from */
        from?: string | null;

        /** RaftMessage to */
        to?: string | null;

        /** RaftMessage term */
        term?: number | null;

        /** RaftMessage requestVote */
        requestVote?: ballast.raft.RequestVote.$Properties | null;

        /** RaftMessage requestVoteResponse */
        requestVoteResponse?: ballast.raft.RequestVoteResponse.$Properties | null;

        /** RaftMessage appendEntries */
        appendEntries?: ballast.raft.AppendEntries.$Properties | null;

        /** RaftMessage appendEntriesResponse */
        appendEntriesResponse?: ballast.raft.AppendEntriesResponse.$Properties | null;

        /** RaftMessage heartbeat */
        heartbeat?: ballast.raft.Heartbeat.$Properties | null;

        /** RaftMessage heartbeatResponse */
        heartbeatResponse?: ballast.raft.HeartbeatResponse.$Properties | null;

        /** RaftMessage installSnapshot */
        installSnapshot?: ballast.raft.InstallSnapshot.$Properties | null;

        /** RaftMessage installSnapshotResponse */
        installSnapshotResponse?: ballast.raft.InstallSnapshotResponse.$Properties | null;

        /** RaftMessage timeoutNow */
        timeoutNow?: ballast.raft.TimeoutNow.$Properties | null;

        /** RaftMessage readIndex */
        readIndex?: ballast.raft.ReadIndexRequest.$Properties | null;

        /** RaftMessage readIndexResponse */
        readIndexResponse?: ballast.raft.ReadIndexResponse.$Properties | null;

        /** RaftMessage body */
        body?:
          | 'requestVote'
          | 'requestVoteResponse'
          | 'appendEntries'
          | 'appendEntriesResponse'
          | 'heartbeat'
          | 'heartbeatResponse'
          | 'installSnapshot'
          | 'installSnapshotResponse'
          | 'timeoutNow'
          | 'readIndex'
          | 'readIndexResponse';

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];
      }

      /** Narrowed shape of a RaftMessage. */
      type $Shape = {
        clusterId?: string | null;
        from?: string | null;
        to?: string | null;
        term?: number | null;
        requestVote?: ballast.raft.RequestVote.$Shape | null;
        requestVoteResponse?: ballast.raft.RequestVoteResponse.$Shape | null;
        appendEntries?: ballast.raft.AppendEntries.$Shape | null;
        appendEntriesResponse?: ballast.raft.AppendEntriesResponse.$Shape | null;
        heartbeat?: ballast.raft.Heartbeat.$Shape | null;
        heartbeatResponse?: ballast.raft.HeartbeatResponse.$Shape | null;
        installSnapshot?: ballast.raft.InstallSnapshot.$Shape | null;
        installSnapshotResponse?: ballast.raft.InstallSnapshotResponse.$Shape | null;
        timeoutNow?: ballast.raft.TimeoutNow.$Shape | null;
        readIndex?: ballast.raft.ReadIndexRequest.$Shape | null;
        readIndexResponse?: ballast.raft.ReadIndexResponse.$Shape | null;
        $unknowns?: Uint8Array[];
      } & (
        | {
            body?: undefined;
            requestVote?: null;
            requestVoteResponse?: null;
            appendEntries?: null;
            appendEntriesResponse?: null;
            heartbeat?: null;
            heartbeatResponse?: null;
            installSnapshot?: null;
            installSnapshotResponse?: null;
            timeoutNow?: null;
            readIndex?: null;
            readIndexResponse?: null;
          }
        | {
            body?: 'requestVote';
            requestVote: ballast.raft.RequestVote.$Shape;
            requestVoteResponse?: null;
            appendEntries?: null;
            appendEntriesResponse?: null;
            heartbeat?: null;
            heartbeatResponse?: null;
            installSnapshot?: null;
            installSnapshotResponse?: null;
            timeoutNow?: null;
            readIndex?: null;
            readIndexResponse?: null;
          }
        | {
            body?: 'requestVoteResponse';
            requestVote?: null;
            requestVoteResponse: ballast.raft.RequestVoteResponse.$Shape;
            appendEntries?: null;
            appendEntriesResponse?: null;
            heartbeat?: null;
            heartbeatResponse?: null;
            installSnapshot?: null;
            installSnapshotResponse?: null;
            timeoutNow?: null;
            readIndex?: null;
            readIndexResponse?: null;
          }
        | {
            body?: 'appendEntries';
            requestVote?: null;
            requestVoteResponse?: null;
            appendEntries: ballast.raft.AppendEntries.$Shape;
            appendEntriesResponse?: null;
            heartbeat?: null;
            heartbeatResponse?: null;
            installSnapshot?: null;
            installSnapshotResponse?: null;
            timeoutNow?: null;
            readIndex?: null;
            readIndexResponse?: null;
          }
        | {
            body?: 'appendEntriesResponse';
            requestVote?: null;
            requestVoteResponse?: null;
            appendEntries?: null;
            appendEntriesResponse: ballast.raft.AppendEntriesResponse.$Shape;
            heartbeat?: null;
            heartbeatResponse?: null;
            installSnapshot?: null;
            installSnapshotResponse?: null;
            timeoutNow?: null;
            readIndex?: null;
            readIndexResponse?: null;
          }
        | {
            body?: 'heartbeat';
            requestVote?: null;
            requestVoteResponse?: null;
            appendEntries?: null;
            appendEntriesResponse?: null;
            heartbeat: ballast.raft.Heartbeat.$Shape;
            heartbeatResponse?: null;
            installSnapshot?: null;
            installSnapshotResponse?: null;
            timeoutNow?: null;
            readIndex?: null;
            readIndexResponse?: null;
          }
        | {
            body?: 'heartbeatResponse';
            requestVote?: null;
            requestVoteResponse?: null;
            appendEntries?: null;
            appendEntriesResponse?: null;
            heartbeat?: null;
            heartbeatResponse: ballast.raft.HeartbeatResponse.$Shape;
            installSnapshot?: null;
            installSnapshotResponse?: null;
            timeoutNow?: null;
            readIndex?: null;
            readIndexResponse?: null;
          }
        | {
            body?: 'installSnapshot';
            requestVote?: null;
            requestVoteResponse?: null;
            appendEntries?: null;
            appendEntriesResponse?: null;
            heartbeat?: null;
            heartbeatResponse?: null;
            installSnapshot: ballast.raft.InstallSnapshot.$Shape;
            installSnapshotResponse?: null;
            timeoutNow?: null;
            readIndex?: null;
            readIndexResponse?: null;
          }
        | {
            body?: 'installSnapshotResponse';
            requestVote?: null;
            requestVoteResponse?: null;
            appendEntries?: null;
            appendEntriesResponse?: null;
            heartbeat?: null;
            heartbeatResponse?: null;
            installSnapshot?: null;
            installSnapshotResponse: ballast.raft.InstallSnapshotResponse.$Shape;
            timeoutNow?: null;
            readIndex?: null;
            readIndexResponse?: null;
          }
        | {
            body?: 'timeoutNow';
            requestVote?: null;
            requestVoteResponse?: null;
            appendEntries?: null;
            appendEntriesResponse?: null;
            heartbeat?: null;
            heartbeatResponse?: null;
            installSnapshot?: null;
            installSnapshotResponse?: null;
            timeoutNow: ballast.raft.TimeoutNow.$Shape;
            readIndex?: null;
            readIndexResponse?: null;
          }
        | {
            body?: 'readIndex';
            requestVote?: null;
            requestVoteResponse?: null;
            appendEntries?: null;
            appendEntriesResponse?: null;
            heartbeat?: null;
            heartbeatResponse?: null;
            installSnapshot?: null;
            installSnapshotResponse?: null;
            timeoutNow?: null;
            readIndex: ballast.raft.ReadIndexRequest.$Shape;
            readIndexResponse?: null;
          }
        | {
            body?: 'readIndexResponse';
            requestVote?: null;
            requestVoteResponse?: null;
            appendEntries?: null;
            appendEntriesResponse?: null;
            heartbeat?: null;
            heartbeatResponse?: null;
            installSnapshot?: null;
            installSnapshotResponse?: null;
            timeoutNow?: null;
            readIndex?: null;
            readIndexResponse: ballast.raft.ReadIndexResponse.$Shape;
          }
      );
    }
  }
}

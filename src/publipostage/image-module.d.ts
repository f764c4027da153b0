// Types for @slosarek/docxtemplater-image-module-free (the package ships none): what docx.ts uses.
declare module '@slosarek/docxtemplater-image-module-free' {
  interface ImageModuleOptions {
    centered?: boolean;
    fileType?: 'docx' | 'pptx';
    /** The image bytes for a tag's value (synchronous). */
    getImage(tagValue: string, tagName: string): Buffer;
    /** [width, height] in pixels. */
    getSize(img: Buffer, tagValue: string, tagName: string): [number, number];
    /** Decides which tags are images (default: `{%name}`). */
    setParser?(tag: string): { type: 'placeholder'; value: string; module: string; centered: boolean } | null;
  }
  export default class ImageModule {
    constructor(options: ImageModuleOptions);
  }
}

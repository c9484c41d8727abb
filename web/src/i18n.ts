import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from './locales/en.json';
import th from './locales/th.json';

export const LANGUAGES = ['th', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
const STORAGE_KEY = 'sampan.lang';

function storedLanguage(): Language {
  try {
    const value = window.localStorage.getItem(STORAGE_KEY);
    if (value === 'th' || value === 'en') return value;
  } catch {
    // no storage: Thai
  }
  return 'th';
}

// The shared texts; each area of the console (journeys, campaigns and templates, settings)
// brings its own file per language when it is first opened (`addAreaTexts`).
const resources = {
  th: { translation: th },
  en: { translation: en },
};

void i18n.use(initReactI18next).init({
  resources,
  lng: storedLanguage(),
  fallbackLng: 'th',
  supportedLngs: LANGUAGES,
  interpolation: { escapeValue: false },
  returnNull: false,
});

function mark(language: string) {
  document.documentElement.lang = language;
}
mark(i18n.language);
i18n.on('languageChanged', mark);

/** Add an area's texts, both languages at once, so a switch needs nothing more. */
export function addAreaTexts(texts: { th: object; en: object }): void {
  i18n.addResourceBundle('th', 'translation', texts.th, true, false);
  i18n.addResourceBundle('en', 'translation', texts.en, true, false);
}

/** Switch the console's language and remember it in this browser. */
export function setLanguage(language: Language): void {
  try {
    window.localStorage.setItem(STORAGE_KEY, language);
  } catch {
    // the switch still works for this visit
  }
  void i18n.changeLanguage(language);
}

export default i18n;
